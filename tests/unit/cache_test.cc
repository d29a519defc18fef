// The local store: atomic, verified blobs (a corrupt blob is dropped, never served), resumable
// downloads, action records that read as misses when damaged or orphaned, trees, usage, prune,
// and a clear error with nothing half-written when the disk is full.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include "base/error.h"
#include "cache/store.h"
#include "oci/sha256.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using c2w::cache::Record;
using c2w::cache::Store;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Cache, BlobsAreVerifiedAndCorruptOnesDropped) {
  c2w::testing::TempDir dir;
  std::string digest;
  {
    Store store(dir.path());
    digest = store.put_blob("hello blob");
    EXPECT_EQ(digest, c2w::oci::Sha256::of("hello blob"));
    EXPECT_EQ(store.read_blob(digest), "hello blob");
  }
  Store store(dir.path());  // a new process: nothing verified yet
  std::ofstream(store.blob_path(digest), std::ios::trunc) << "tampered";
  EXPECT_FALSE(store.blob(digest).has_value());
  EXPECT_FALSE(fs::exists(store.blob_path(digest)));
  EXPECT_THROW(store.read_blob(digest), c2w::Error);
}

TEST(Cache, BlobWriterResumesAndChecksDigest) {
  c2w::testing::TempDir dir;
  Store store(dir.path());
  std::string data(100000, 'x');
  std::string digest = c2w::oci::Sha256::of(data);
  {
    auto w = store.write_blob(digest);
    EXPECT_EQ(w.offset(), 0u);
    w.write(data.data(), 40000);
  }  // interrupted: the partial download stays
  {
    auto w = store.write_blob(digest);
    ASSERT_EQ(w.offset(), 40000u);
    w.write(data.data() + 40000, data.size() - 40000);
    EXPECT_EQ(w.commit(), digest);
  }
  EXPECT_EQ(store.read_blob(digest), data);

  std::string other = c2w::oci::Sha256::of("something else");
  auto bad = store.write_blob(other);
  bad.write("not it", 6);
  try {
    bad.commit();
    FAIL() << "a blob that does not match its digest was accepted";
  } catch (const c2w::Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match its digest"), std::string::npos);
  }
  EXPECT_FALSE(store.blob(other).has_value());
  EXPECT_FALSE(fs::exists(dir.path() / "tmp" / (other.substr(7) + ".partial")));
}

TEST(Cache, ActionRecordsMissWhenDamagedOrOrphaned) {
  c2w::testing::TempDir dir;
  Store store(dir.path());
  std::string key = "xxh3:00112233445566778899aabbccddeeff";
  Record r;
  r.content = store.put_blob("output");
  r.size = 6;
  r.meta = {{"k", "v"}};
  r.description = "test op";
  store.put_action(key, r);
  auto got = store.get_action(key);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->content, r.content);
  EXPECT_EQ(got->meta["k"], "v");

  fs::path file = dir.path() / "actions" / (key.substr(5) + ".json");
  std::string text = slurp(file);
  text[text.find("test op")] = 'T';  // bit rot
  std::ofstream(file, std::ios::trunc) << text;
  EXPECT_FALSE(store.get_action(key));
  EXPECT_FALSE(fs::exists(file));

  store.put_action(key, r);
  fs::remove(store.blob_path(r.content));
  EXPECT_FALSE(store.get_action(key)) << "a record whose output is gone must miss";
}

TEST(Cache, TreesCommitAtomicallyAndPruneRemovesOldest) {
  c2w::testing::TempDir dir;
  Store store(dir.path());
  fs::path staged = store.stage_tree();
  std::ofstream(staged / "file") << std::string(50000, 'a');
  std::string id = "xxh3:ffffffffffffffffffffffffffffffff";
  fs::path tree = store.commit_tree(staged, id);
  fs::path staged2 = store.stage_tree();  // trees may also be named by a sha256 (ChainIDs)
  store.commit_tree(staged2, "sha256:" + std::string(64, 'c'));
  size_t trees = 0;
  for (auto& e : store.usage()) trees += e.kind == "tree";
  EXPECT_EQ(trees, 2u);
  EXPECT_TRUE(fs::exists(tree / "file"));
  EXPECT_EQ(store.tree(id), tree);

  std::string old_blob = store.put_blob(std::string(200000, 'o'));
  ::utimensat(AT_FDCWD, store.blob_path(old_blob).c_str(),
              std::array<timespec, 2>{timespec{1, 0}, timespec{1, 0}}.data(), 0);
  std::string new_blob = store.put_blob(std::string(10000, 'n'));
  uint64_t before = 0;
  for (auto& e : store.usage()) before += e.size;
  auto result = store.prune(before - 1, false);
  EXPECT_GE(result.removed_entries, 1u);
  EXPECT_FALSE(fs::exists(store.blob_path(old_blob))) << "the least recently used goes first";
  EXPECT_TRUE(fs::exists(store.blob_path(new_blob)));

  {
    auto in_use = store.use();
    EXPECT_THROW(store.prune(0, true), c2w::Error);
  }
  store.prune(0, true);
  EXPECT_TRUE(store.usage().empty());
}

TEST(Cache, FullDiskIsAClearErrorAndLeavesNothingBehind) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  c2w::testing::TempDir dir;
  ASSERT_EQ(::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=256k"), 0) << strerror(errno);
  {
    Store store(dir.path());
    try {
      store.put_blob(std::string(1 << 20, 'z'));
      FAIL() << "writing 1 MiB into a 256 KiB tmpfs succeeded";
    } catch (const c2w::Error& e) {
      EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
      EXPECT_NE(e.hint().find("prune"), std::string::npos);
    }
    EXPECT_TRUE(fs::is_empty(dir.path() / "tmp"));
    EXPECT_TRUE(fs::is_empty(dir.path() / "blobs" / "sha256"));
  }
  ::umount(dir.path().c_str());
}

}  // namespace
