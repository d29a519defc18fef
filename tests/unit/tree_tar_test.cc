// cache/tree_tar: a tree survives the trip through a tar stream (types, modes, nanosecond
// mtimes, hard links, a read-only directory), and a stream that would write outside its
// destination (`..`, an absolute path, a path through a symlink) is refused.
#include "cache/tree_tar/tree_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "base/error.h"
#include "tests/support/process.h"
#include "tests/support/tree_compare.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::TempDir;

std::string tar_of(const fs::path& root, size_t chunk = 1000) {
  std::string out;
  EXPECT_TRUE(c2w::cache::write_tree_tar(root, chunk, [&](std::string_view piece) {
    EXPECT_LE(piece.size(), chunk);
    out += piece;
    return true;
  }));
  return out;
}

void untar(const std::string& tar, const fs::path& dest, size_t piece = 777) {
  size_t at = 0;
  c2w::cache::read_tree_tar(
      [&]() -> std::string_view {
        std::string_view next = std::string_view(tar).substr(at, piece);
        at += next.size();
        return next;
      },
      dest);
}

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

TEST(TreeTar, RoundTripKeepsWhatExportKeeps) {
  TempDir dir;
  const fs::path src = dir.path() / "src";
  fs::create_directories(src / "ro" / "deep");
  std::ofstream(src / "ro" / "deep" / "file") << "hello";
  std::ofstream(src / "big") << std::string(300000, 'x');
  fs::permissions(src / "big", fs::perms(0751));
  fs::create_hard_link(src / "big", src / "big-link");
  fs::create_symlink("../elsewhere", src / "dangling");
  ASSERT_EQ(::mkfifo((src / "fifo").c_str(), 0640), 0);
  timespec times[2] = {{1700000000, 123456789}, {1700000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (src / "ro" / "deep" / "file").c_str(), times, 0), 0);
  fs::permissions(src / "ro", fs::perms(0555));

  const fs::path dest = dir.path() / "dest";
  fs::create_directory(dest);
  untar(tar_of(src), dest);
  fs::permissions(src / "ro", fs::perms(0755));  // let TempDir clean up

  EXPECT_EQ(c2w::testing::slurp(dest / "ro" / "deep" / "file"), "hello");
  EXPECT_EQ(lstat_of(dest / "ro").st_mode & 07777, 0555u);
  struct stat f = lstat_of(dest / "ro" / "deep" / "file");
  EXPECT_EQ(f.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(f.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(lstat_of(dest / "big").st_mode & 07777, 0751u);
  EXPECT_EQ(c2w::testing::slurp(dest / "big"), std::string(300000, 'x'));
  EXPECT_EQ(lstat_of(dest / "big").st_ino, lstat_of(dest / "big-link").st_ino);
  EXPECT_EQ(fs::read_symlink(dest / "dangling"), "../elsewhere");
  EXPECT_TRUE(S_ISFIFO(lstat_of(dest / "fifo").st_mode));
  fs::permissions(dest / "ro", fs::perms(0755));
}

TEST(TreeTar, AStoppedReaderStopsTheWriter) {
  TempDir dir;
  std::ofstream(dir.path() / "a") << std::string(100000, 'a');
  int calls = 0;
  EXPECT_FALSE(
      c2w::cache::write_tree_tar(dir.path(), 4096, [&](std::string_view) { return ++calls < 3; }));
  EXPECT_EQ(calls, 3);
}

// A tar with the given entries, made with libarchive directly (what a hostile builder sends).
std::string hostile_tar(const std::vector<std::tuple<std::string, mode_t, std::string>>& entries) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  archive_write_open2(
      a, &out, nullptr,
      [](archive*, void* data, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(data)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr, nullptr);
  for (const auto& [name, type, value] : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_mode(e, type | 0644);
    if (type == AE_IFLNK) archive_entry_set_symlink(e, value.c_str());
    if (type == AE_IFREG) archive_entry_set_size(e, static_cast<la_int64_t>(value.size()));
    archive_write_header(a, e);
    if (type == AE_IFREG) archive_write_data(a, value.data(), value.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

TEST(TreeTar, EntriesThatLeaveTheDestinationAreRefused) {
  TempDir dir;
  const fs::path outside = dir.path() / "outside";
  fs::create_directory(outside);
  int n = 0;
  for (const auto& entries :
       {std::vector<std::tuple<std::string, mode_t, std::string>>{{"../escaped", AE_IFREG, "x"}},
        {{(outside / "abs").string(), AE_IFREG, "x"}},
        {{"link", AE_IFLNK, outside.string()}, {"link/through", AE_IFREG, "x"}}}) {
    const fs::path dest = dir.path() / ("dest" + std::to_string(n++));
    fs::create_directory(dest);
    EXPECT_THROW(untar(hostile_tar(entries), dest), c2w::Error);
  }
  EXPECT_TRUE(fs::is_empty(outside));
  EXPECT_FALSE(fs::exists(dir.path() / "escaped"));
}

}  // namespace
