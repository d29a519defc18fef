// Reads a (compressed) cpio archive back with libarchive, for tests of rootfs: every
// entry's header fields and contents, in archive order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace c2w::testing {

struct CpioEntry {
  std::string name;
  unsigned type = 0;  // AE_IFREG, AE_IFDIR, ...
  unsigned perm = 0;
  uint32_t uid = 0, gid = 0;
  int64_t mtime = 0;
  uint64_t ino = 0;
  unsigned nlink = 0;
  unsigned rdev_major = 0, rdev_minor = 0;
  std::string symlink;
  std::string data;
};

// Throws std::runtime_error when the archive cannot be read. `filter` receives the name of
// the compression libarchive found ("zstd", "none", ...).
std::vector<CpioEntry> read_cpio(const std::filesystem::path& file, std::string* filter = nullptr);

}  // namespace c2w::testing
