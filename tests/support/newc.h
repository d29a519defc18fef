// Writes initramfs archives in the "newc" cpio format (what the Linux initramfs unpacker reads)
// for tests and benchmarks: a host directory tree (as root:root, fixed mtime, sorted) plus
// extra entries such as /dev/console and an /init script. No root rights needed for device
// nodes, since they are only headers in the archive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace c2w::testing {

class NewcWriter {
 public:
  // Adds every entry under `root` (not root itself), directories before their contents.
  void add_tree(const std::filesystem::path& root);
  void add_dir(const std::string& path, uint32_t mode = 0755);
  void add_file(const std::string& path, const std::string& data, uint32_t mode = 0644);
  void add_symlink(const std::string& path, const std::string& target);
  void add_char_device(const std::string& path, uint32_t major, uint32_t minor,
                       uint32_t mode = 0600);
  // The archive with its trailer.
  std::vector<uint8_t> finish();
  bool write(const std::filesystem::path& out);

 private:
  void entry(const std::string& path, uint32_t mode, const std::string& data, uint32_t rmajor = 0,
             uint32_t rminor = 0);
  std::vector<uint8_t> out_;
  uint32_t ino_ = 1;
};

// An initramfs for boot tests: the busybox fixture tree, /dev/console (5:1), and `init_script`
// as /init (run by /bin/busybox sh).
std::vector<uint8_t> busybox_initramfs(const std::filesystem::path& busybox_root,
                                       const std::string& init_script);

}  // namespace c2w::testing
