#include "tests/support/tree_compare.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <vector>

#include "ownership/manifest.h"

namespace c2w::testing {

namespace fs = std::filesystem;
using ownership::EntryType;

namespace {

EntryType type_of(mode_t mode) {
  if (S_ISDIR(mode)) return EntryType::kDir;
  if (S_ISLNK(mode)) return EntryType::kSymlink;
  if (S_ISFIFO(mode)) return EntryType::kFifo;
  if (S_ISCHR(mode)) return EntryType::kCharDevice;
  if (S_ISBLK(mode)) return EntryType::kBlockDevice;
  return EntryType::kFile;
}

std::map<std::string, std::string> xattrs_of(const fs::path& p) {
  std::map<std::string, std::string> out;
  std::string names(65536, '\0');
  ssize_t len = llistxattr(p.c_str(), names.data(), names.size());
  for (ssize_t i = 0; i < len; i += static_cast<ssize_t>(strlen(&names[size_t(i)])) + 1) {
    std::string value(65536, '\0');
    ssize_t v = lgetxattr(p.c_str(), &names[size_t(i)], value.data(), value.size());
    if (v >= 0) out[&names[size_t(i)]] = value.substr(0, size_t(v));
  }
  return out;
}

}  // namespace

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Everything the expected tree says, checked against our disk tree and manifest.
void expect_same_tree(const fs::path& expected, const fs::path& dest) {
  using namespace c2w::ownership;
  fs::path ours = dest / "rootfs";
  std::map<std::string, Entry> manifest;
  for (Entry& e : read_metadata(dest / "metadata.jsonl")) manifest[e.path] = e;
  std::map<ino_t, std::vector<std::string>> expected_links;
  size_t count = 0, mismatches = 0;
  auto check = [&](bool ok, const std::string& path, const std::string& what) {
    if (!ok && ++mismatches <= 20) ADD_FAILURE() << path << ": " << what;
  };
  struct stat root {};
  ASSERT_EQ(stat(expected.c_str(), &root), 0);  // the fixture dir itself may be a symlink
  check(manifest["/"].mode == (root.st_mode & 07777) && manifest["/"].uid == root.st_uid, "/",
        "root metadata");
  for (auto it = fs::recursive_directory_iterator(expected);
       it != fs::recursive_directory_iterator(); ++it) {
    ++count;
    std::string path = "/" + it->path().lexically_relative(expected).string();
    fs::path mine = ours / path.substr(1);
    struct stat want {
    }, got{};
    ASSERT_EQ(lstat(it->path().c_str(), &want), 0);
    auto m = manifest.find(path);
    if (m == manifest.end() || lstat(mine.c_str(), &got) != 0) {
      check(false, path, "missing from the manifest or the disk");
      continue;
    }
    const Entry& e = m->second;
    EntryType type = type_of(want.st_mode);
    check(e.type == type, path, "type " + std::string(type_name(e.type)));
    check(e.mode == (want.st_mode & 07777), path, "mode " + std::to_string(e.mode));
    check(e.uid == want.st_uid && e.gid == want.st_gid, path, "owner");
    check(e.mtime == 0 && got.st_mtime == 0, path, "mtime (the fixture layers use 0)");
    check(e.xattrs == xattrs_of(it->path()), path, "xattrs");
    switch (type) {
      case EntryType::kFile:
        check(S_ISREG(got.st_mode) && e.size == uint64_t(want.st_size), path, "size");
        check(slurp(it->path()) == slurp(mine), path, "contents");
        if (want.st_nlink > 1) expected_links[want.st_ino].push_back(path);
        break;
      case EntryType::kSymlink:
        check(S_ISLNK(got.st_mode) && fs::read_symlink(mine) == fs::read_symlink(it->path()) &&
                  e.link == fs::read_symlink(it->path()).string(),
              path, "symlink target");
        break;
      case EntryType::kCharDevice:
      case EntryType::kBlockDevice:
        check(e.major == major(want.st_rdev) && e.minor == minor(want.st_rdev), path, "rdev");
        check(S_ISREG(got.st_mode) && got.st_size == 0, path, "placeholder");
        break;
      case EntryType::kDir:
        check(S_ISDIR(got.st_mode), path, "directory on disk");
        break;
      case EntryType::kFifo:
        check(S_ISFIFO(got.st_mode), path, "fifo on disk");
        break;
    }
  }
  EXPECT_EQ(manifest.size(), count + 1) << "the manifest has entries the expected tree lacks";
  size_t on_disk = 0;
  for (auto it = fs::recursive_directory_iterator(ours); it != fs::recursive_directory_iterator();
       ++it)
    ++on_disk;
  EXPECT_EQ(on_disk, count);
  for (auto& [ino, paths] : expected_links) {
    std::sort(paths.begin(), paths.end());
    struct stat first {
    }, other{};
    ASSERT_EQ(lstat((ours / paths[0].substr(1)).c_str(), &first), 0);
    EXPECT_EQ(manifest[paths[0]].hardlink, "");
    for (size_t i = 1; i < paths.size(); ++i) {
      ASSERT_EQ(lstat((ours / paths[i].substr(1)).c_str(), &other), 0);
      EXPECT_EQ(other.st_ino, first.st_ino) << paths[i] << " is not a hard link of " << paths[0];
      EXPECT_EQ(manifest[paths[i]].hardlink, paths[0]);
    }
  }
  EXPECT_EQ(mismatches, 0u);
  std::cout << "compared " << count << " entries, " << expected_links.size()
            << " hard-link groups\n";
}

}  // namespace c2w::testing
