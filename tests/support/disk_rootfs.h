// An image's files on a disk, for tests of the disk path before the ops produce it: the
// unpacked tree (`c2w --target image`) as an EROFS image written by erofs/, and an initramfs
// that holds only guest init and an empty /c2w/rootfs (ops/rootfs/initramfs.h), booted with
// c2w.disk=vda.
#pragma once

#include <filesystem>
#include <string>

namespace c2w::testing {

struct DiskRootfs {
  std::filesystem::path initramfs;  // init + config, no container files
  std::filesystem::path disk;       // raw EROFS image of the container's files
};

// Builds both from the fixture image `image` under `out` with the c2w binary `c2w` and the
// cache `cache`; throws std::runtime_error with c2w's output when a step fails.
DiskRootfs make_disk_rootfs(const std::string& c2w, const std::filesystem::path& cache,
                            const std::string& image, const std::filesystem::path& out);

}  // namespace c2w::testing
