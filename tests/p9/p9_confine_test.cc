// Confinement: nothing a guest sends reaches a host file outside the share. Each test plants
// an escape route ("..", absolute and relative symlinks, a directory swapped for a symlink
// after the walk, names with '/'), tries every operation through it, and then checks the file
// outside (<tmp>/outside/secret) was neither read nor changed.
#include <sys/stat.h>
#include <unistd.h>

#include "tests/p9/p9_support.h"

namespace c2w::p9::test {
namespace {

using Confine = ShareTest;

TEST_F(Confine, DotDotNeverClimbsAboveTheRoot) {
  Qid root;
  ASSERT_EQ(c().walk(0, 1, {}, nullptr), 0);
  ASSERT_EQ(c().attach(9, &root), 0);
  std::vector<Qid> q;
  ASSERT_EQ(c().walk(0, 2, {"..", "..", ".."}, &q), 0);
  for (const Qid& x : q) EXPECT_EQ(x.path, root.path);
  EXPECT_EQ(c().walk(0, 3, {"..", "outside", "secret"}), kENOENT);
  std::filesystem::create_directories(share() / "sub");
  EXPECT_EQ(c().walk(0, 3, {"sub", "..", "..", "outside", "secret"}), kENOENT);
  // The root reached through ".." is the share root: creating there lands in the share.
  ASSERT_EQ(c().walk(0, 4, {"sub", "..", ".."}), 0);
  ASSERT_EQ(c().mkdir(4, "made", 0755), 0);
  EXPECT_TRUE(std::filesystem::is_directory(share() / "made"));
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() / "made"));
  expect_outside_intact();
}

void try_everything_on(Client& c, uint32_t fid) {
  std::string got;
  Getattr a;
  EXPECT_NE(c.lopen(fid, kO_RDONLY), 0);
  EXPECT_NE(c.read(fid, 0, 100, &got), 0);
  EXPECT_NE(c.write(fid, 0, "pwned"), 0);
  EXPECT_NE(c.setattr(fid, kSetSize, 0, 0, 0, 0), 0);
  c.setattr(fid, kSetMode, 0777, 0, 0, 0);  // may succeed on the link itself; never on target
  c.setattr(fid, kSetUid | kSetGid, 0, 4242, 4242, 0);
  c.setattr(fid, kSetMtime | kSetMtimeSet, 0, 0, 0, 0, 0, 12345);
  if (c.getattr(fid, &a) == 0) {
    EXPECT_EQ(a.mode & kS_IFMT, kS_IFLNK);
  }
  EXPECT_NE(c.lcreate(fid, "x", kO_RDWR, 0644), 0);
  EXPECT_NE(c.mkdir(fid, "x", 0755), 0);
  EXPECT_NE(c.unlinkat(fid, "secret", 0), 0);
  EXPECT_NE(c.renameat(fid, "secret", 0, "stolen"), 0);
}

TEST_F(Confine, AbsoluteSymlinkIsNeverFollowed) {
  std::filesystem::create_symlink(outside() / "secret", share() / "abs");
  std::filesystem::create_directory_symlink(outside(), share() / "absdir");
  std::vector<Qid> q;
  ASSERT_EQ(c().walk(0, 1, {"abs"}, &q), 0);
  EXPECT_EQ(q[0].type, kQTSYMLINK);
  EXPECT_NE(q[0].path, lstat_of(outside() / "secret").st_ino);
  try_everything_on(c(), 1);
  EXPECT_EQ(c().walk(0, 2, {"absdir", "secret"}), kENOENT);
  ASSERT_EQ(c().walk(0, 3, {"absdir"}), 0);
  try_everything_on(c(), 3);
  // A hard link to the symlink links the symlink, not the file it names.
  ASSERT_EQ(c().link(0, 1, "hard"), 0);
  EXPECT_TRUE(S_ISLNK(lstat_of(share() / "hard").st_mode));
  expect_outside_intact();
  EXPECT_FALSE(std::filesystem::exists(share() / "stolen"));
}

TEST_F(Confine, RelativeSymlinkIsNeverFollowed) {
  std::filesystem::create_directories(share() / "a");
  std::filesystem::create_symlink("../../outside/secret", share() / "a" / "rel");
  std::filesystem::create_directory_symlink("../outside", share() / "reldir");
  ASSERT_EQ(c().walk(0, 1, {"a", "rel"}), 0);
  try_everything_on(c(), 1);
  EXPECT_EQ(c().walk(0, 2, {"reldir", "secret"}), kENOENT);
  ASSERT_EQ(c().walk(0, 3, {"reldir"}), 0);
  try_everything_on(c(), 3);
  std::string t;
  ASSERT_EQ(c().readlink(1, &t), 0);
  EXPECT_EQ(t, "../../outside/secret");  // the guest gets the text, and resolves it itself
  expect_outside_intact();
}

TEST_F(Confine, DirectorySwappedForSymlinkAfterWalk) {
  std::filesystem::create_directories(share() / "sub");
  put(share() / "sub" / "secret", "inside");
  ASSERT_EQ(c().walk(0, 1, {"sub", "secret"}), 0);
  ASSERT_EQ(c().walk(0, 2, {"sub"}), 0);
  ASSERT_EQ(c().walk(0, 3, {"sub", "secret"}), 0);
  ASSERT_EQ(c().lopen(3, kO_RDONLY), 0);  // opened before the swap: stays the inside file
  // The host (or another guest process racing) replaces sub with a symlink to outside.
  std::filesystem::rename(share() / "sub", share() / "old");
  std::filesystem::create_directory_symlink(outside(), share() / "sub");

  std::string got;
  Getattr a;
  EXPECT_NE(c().lopen(1, kO_RDWR), 0);
  EXPECT_NE(c().getattr(1, &a), 0);
  EXPECT_NE(c().setattr(1, kSetSize, 0, 0, 0, 0), 0);
  EXPECT_NE(c().setattr(1, kSetMode, 0777, 0, 0, 0), 0);
  EXPECT_NE(c().setattr(1, kSetMtime | kSetMtimeSet, 0, 0, 0, 0, 0, 1), 0);
  EXPECT_NE(c().lcreate(2, "new", kO_RDWR, 0644), 0);
  EXPECT_NE(c().mkdir(2, "new", 0755), 0);
  EXPECT_NE(c().symlink(2, "new", "x"), 0);
  EXPECT_NE(c().mknod(2, "new", kS_IFIFO | 0644), 0);
  EXPECT_NE(c().unlinkat(2, "secret", 0), 0);
  EXPECT_NE(c().renameat(2, "secret", 0, "stolen"), 0);
  EXPECT_NE(c().renameat(0, "x", 2, "secret"), 0);
  EXPECT_NE(c().link(0, 1, "stolen"), 0);
  EXPECT_NE(c().rename(1, 0, "stolen"), 0);
  EXPECT_NE(c().remove(1), 0);
  ASSERT_EQ(c().read(3, 0, 100, &got), 0);
  EXPECT_EQ(got, "inside");
  EXPECT_FALSE(std::filesystem::exists(outside() / "new"));
  EXPECT_FALSE(std::filesystem::exists(share() / "stolen"));
  expect_outside_intact();
}

TEST_F(Confine, FileSwappedForSymlinkAfterWalk) {
  put(share() / "f", "inside");
  ASSERT_EQ(c().walk(0, 1, {"f"}), 0);
  std::filesystem::remove(share() / "f");
  std::filesystem::create_symlink(outside() / "secret", share() / "f");
  std::string got;
  EXPECT_EQ(c().lopen(1, kO_RDWR), kELOOP);
  EXPECT_NE(c().read(1, 0, 100, &got), 0);
  EXPECT_NE(c().setattr(1, kSetSize, 0, 0, 0, 0), 0);
  c().setattr(1, kSetMode, 0777, 0, 0, 0);
  c().setattr(1, kSetUid | kSetGid, 0, 4242, 4242, 0);
  Getattr a;
  ASSERT_EQ(c().getattr(1, &a), 0);
  EXPECT_EQ(a.mode & kS_IFMT, kS_IFLNK);
  EXPECT_NE(a.size, 10u);
  expect_outside_intact();
  struct stat st = lstat_of(outside() / "secret");
  EXPECT_NE(st.st_uid, 4242u);
}

TEST_F(Confine, NamesThatWouldLeaveAreRefused) {
  put(share() / "f", "x");
  ASSERT_EQ(c().walk(0, 1, {"f"}), 0);
  // Absolute names point into the test's own temp dir: a regression must not reach real files.
  const std::vector<std::string> bads = {"..",
                                         ".",
                                         "",
                                         "../outside",
                                         "a/b",
                                         (outside() / "secret").string(),
                                         std::string("nul\0x", 5)};
  for (const std::string& bad : bads) {
    SCOPED_TRACE(bad);
    ASSERT_EQ(c().walk(0, 2, {}), 0);
    EXPECT_NE(c().lcreate(2, bad, kO_RDWR, 0644), 0);
    EXPECT_NE(c().mkdir(0, bad, 0755), 0);
    EXPECT_NE(c().symlink(0, bad, "t"), 0);
    EXPECT_NE(c().mknod(0, bad, kS_IFIFO | 0644), 0);
    EXPECT_NE(c().link(0, 1, bad), 0);
    EXPECT_NE(c().renameat(0, "f", 0, bad), 0);
    EXPECT_NE(c().renameat(0, bad, 0, "g"), 0);
    EXPECT_NE(c().rename(1, 0, bad), 0);
    EXPECT_NE(c().unlinkat(0, bad, 0), 0);
    EXPECT_NE(c().unlinkat(0, bad, kAtRemoveDir), 0);
    ASSERT_EQ(c().clunk(2), 0);
  }
  EXPECT_EQ(c().renameat(0, "f", 0, "../outside/f"), kEINVAL);
  EXPECT_EQ(c().mkdir(0, "a/b", 0755), kEINVAL);
  EXPECT_EQ(get(share() / "f"), "x");
  EXPECT_FALSE(std::filesystem::exists(outside() / "f"));
  EXPECT_TRUE(std::filesystem::exists(tmp_.path() / "share"));
  expect_outside_intact();
}

TEST_F(Confine, SymlinkTargetsAreStoredVerbatimNotResolved) {
  // Only targets inside the test's temp dir: if confinement ever broke, this test must damage
  // nothing but its own files.
  ASSERT_EQ(c().symlink(0, "esc", (outside() / "secret").string()), 0);
  ASSERT_EQ(c().symlink(0, "esc2", "../outside/secret"), 0);
  ASSERT_EQ(c().walk(0, 1, {"esc"}), 0);
  ASSERT_EQ(c().walk(0, 2, {"esc2"}), 0);
  try_everything_on(c(), 1);
  try_everything_on(c(), 2);
  ASSERT_EQ(c().walk(0, 3, {}), 0);
  // Creating "through" the symlink name must not create the target on the host.
  EXPECT_NE(c().lcreate(3, "esc2", kO_RDWR | kO_CREAT, 0644), 0);
  expect_outside_intact();
}

}  // namespace
}  // namespace c2w::p9::test
