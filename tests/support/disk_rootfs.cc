#include "tests/support/disk_rootfs.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "erofs/writer.h"
#include "ops/rootfs/initramfs.h"
#include "ownership/manifest.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace c2w::testing {

namespace fs = std::filesystem;

DiskRootfs make_disk_rootfs(const std::string& c2w, const fs::path& cache, const std::string& image,
                            const fs::path& out) {
  const CommandResult r =
      run_command({c2w, "--cache-dir", cache.string(), "--progress=plain", "--target", "image",
                   "--output", "type=local,dest=" + (out / "tree").string(),
                   "oci-layout:" + (fixture(image) / "layout").string()});
  if (r.exit_code != 0) throw std::runtime_error("c2w --target image failed:\n" + r.output);
  DiskRootfs d{out / "rootfs.cpio.zst", out / "disk.img"};
  erofs::write_image_file(d.disk, ownership::read_metadata(out / "tree" / "metadata.jsonl"),
                          out / "tree" / "rootfs");

  std::ifstream in(C2W_GUEST_DIR "/init/c2w-init", std::ios::binary);
  std::stringstream init;
  init << in.rdbuf();
  if (init.str().empty()) throw std::runtime_error("no guest init at " C2W_GUEST_DIR "/init");
  rootfs::InitramfsSpec spec;
  fs::create_directories(out / "empty");
  spec.rootfs = out / "empty";
  ownership::Entry root;
  root.path = "/";
  root.type = ownership::EntryType::kDir;
  root.mode = 0755;
  spec.manifest = {root};
  const std::string init_bytes = init.str();
  spec.init = init_bytes;
  std::ofstream cpio(d.initramfs, std::ios::binary);
  rootfs::write_initramfs(spec, [&](const void* data, size_t size) {
    cpio.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  });
  if (!cpio.flush()) throw std::runtime_error("cannot write " + d.initramfs.string());
  return d;
}

}  // namespace c2w::testing
