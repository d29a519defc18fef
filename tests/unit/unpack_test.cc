// The unpack op on layers built in the test: entry types and metadata, OCI whiteouts and opaque
// dirs, replacement rules, unprivileged unpacking, the manifest format.
#include "ops/unpack/unpack.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/unpack/rootfs.h"
#include "ownership/manifest.h"
#include "tests/unit/unpack_support.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w::unpack;
using namespace c2w::ownership;
using namespace c2w::testing;
using c2w::testing::symlink;  // not ::symlink(2)

TEST_F(Unpack, EntryTypesAndTheirMetadata) {
  TarEntry data = file("etc/data", "hello\n", 0640);
  data.uid = 1000;
  data.gid = 1001;
  data.xattrs = {{"user.note", "hi"}, {"security.capability", std::string("\x01\0\0\x02\xff", 5)}};
  TarEntry fifo = c2w::testing::entry("run/fifo", 'p', 0600);
  TarEntry null = c2w::testing::device("dev/null", 'c', 0666, 1, 3);
  TarEntry sda = c2w::testing::device("dev/sda", 'b', 0660, 8, 0);
  sda.gid = 6;
  UnpackResult r =
      run({{dir("etc"), data, hardlink("etc/data-link", "etc/data"), dir("dev"), null, sda,
            dir("run"), fifo, symlink("etc/sl", "../etc/data"), file("bin/setuid", "x", 04755)}});
  EXPECT_EQ(r.rootfs, root());
  EXPECT_EQ(slurp(root() / "etc/data"), "hello\n");
  EXPECT_EQ(fs::read_symlink(root() / "etc/sl"), "../etc/data");
  struct stat a {
  }, b{};
  ASSERT_EQ(lstat((root() / "etc/data").c_str(), &a), 0);
  ASSERT_EQ(lstat((root() / "etc/data-link").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_uid, getuid()) << "files belong to the caller";
  EXPECT_TRUE(fs::is_fifo(root() / "run/fifo"));
  // Devices are never created on the host: empty placeholder files.
  EXPECT_TRUE(fs::is_regular_file(root() / "dev/null"));
  EXPECT_EQ(fs::file_size(root() / "dev/null"), 0u);
  ASSERT_EQ(lstat((root() / "bin/setuid").c_str(), &a), 0);
  EXPECT_EQ(a.st_mode & 07000, 0u) << "no setuid bit on host files";

  auto m = manifest();
  EXPECT_EQ(m.size(), 12u);  // the 10 entries, bin/ and the root
  const Entry& d = m.at("/etc/data");
  EXPECT_EQ(d.type, EntryType::kFile);
  EXPECT_EQ(d.mode, 0640u);
  EXPECT_EQ(d.uid, 1000u);
  EXPECT_EQ(d.gid, 1001u);
  EXPECT_EQ(d.size, 6u);
  EXPECT_EQ(d.mtime, 1700000000);
  EXPECT_EQ(d.xattrs, data.xattrs);
  EXPECT_EQ(d.hardlink, "");
  EXPECT_EQ(m.at("/etc/data-link").hardlink, "/etc/data");
  EXPECT_EQ(m.at("/etc/data-link").uid, 1000u) << "a hard link shares its target's inode";
  EXPECT_EQ(m.at("/etc/sl").type, EntryType::kSymlink);
  EXPECT_EQ(m.at("/etc/sl").link, "../etc/data");
  EXPECT_EQ(m.at("/dev/null").type, EntryType::kCharDevice);
  EXPECT_EQ(m.at("/dev/null").major, 1u);
  EXPECT_EQ(m.at("/dev/null").minor, 3u);
  EXPECT_EQ(m.at("/dev/sda").type, EntryType::kBlockDevice);
  EXPECT_EQ(m.at("/dev/sda").major, 8u);
  EXPECT_EQ(m.at("/dev/sda").gid, 6u);
  EXPECT_EQ(m.at("/run/fifo").type, EntryType::kFifo);
  EXPECT_EQ(m.at("/bin/setuid").mode, 04755u);
  // "bin" had no entry of its own: created like Docker does, 0755 root.
  EXPECT_EQ(m.at("/bin").type, EntryType::kDir);
  EXPECT_EQ(m.at("/bin").mode, 0755u);
  EXPECT_EQ(r.entries, m.size());
}

TEST_F(Unpack, UnreadableModesStayReadableOnDiskAndMtimesAreSet) {
  TarEntry locked = file("locked/secret", "s", 0000);
  TarEntry d = dir("locked", 0000);
  d.mtime = 1234567;
  run({{d, locked}});
  EXPECT_EQ(slurp(root() / "locked/secret"), "s");
  struct stat st {};
  ASSERT_EQ(stat((root() / "locked/secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0600, 0600u);
  EXPECT_EQ(st.st_mtime, 1700000000);
  ASSERT_EQ(stat((root() / "locked").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0700, 0700u);
  EXPECT_EQ(st.st_mtime, 1234567) << "directory mtimes are set after their children";
  EXPECT_EQ(manifest().at("/locked").mode, 0u);
  EXPECT_EQ(manifest().at("/locked/secret").mode, 0u);
}

TEST_F(Unpack, WhiteoutsRemoveLowerEntriesOnly) {
  run({{dir("a"), file("a/f", "1"), dir("a/d"), file("a/d/x", "x"), file("keep", "k")},
       {file("a/.wh.f", ""), file("a/.wh.d", ""), file("a/g", "same layer"), file("a/.wh.g", ""),
        file("a/.wh.nonexistent", ""), file("missing/.wh.x", "")}});
  auto m = manifest();
  EXPECT_FALSE(fs::exists(root() / "a/f"));
  EXPECT_FALSE(fs::exists(root() / "a/d"));
  EXPECT_FALSE(m.count("/a/f") || m.count("/a/d") || m.count("/a/d/x"));
  EXPECT_EQ(slurp(root() / "a/g"), "same layer") << "a whiteout hides lower layers only";
  EXPECT_TRUE(fs::exists(root() / "keep"));
  EXPECT_FALSE(fs::exists(root() / "missing")) << "a whiteout creates nothing";
  for (auto& e : fs::recursive_directory_iterator(root()))
    EXPECT_NE(e.path().filename().string().rfind(".wh.", 0), 0u) << e.path();
}

TEST_F(Unpack, OpaqueDirHidesLowerEntriesAndKeepsItsOwnInAnyOrder) {
  run({{dir("o"), file("o/old", "old"), dir("o/sub"), file("o/sub/inner", "old"),
        file("other", "kept")},
       // "-early" sorts before the marker, "late" after it: both are this layer's.
       {file("o/-early", "e"), dir("o/sub"), file("o/.wh..wh..opq", ""), file("o/late", "l"),
        file("o/sub/new", "n")}});
  auto m = manifest();
  EXPECT_FALSE(fs::exists(root() / "o/old"));
  EXPECT_FALSE(fs::exists(root() / "o/sub/inner"));
  EXPECT_FALSE(m.count("/o/old") || m.count("/o/sub/inner"));
  EXPECT_EQ(slurp(root() / "o/-early"), "e");
  EXPECT_EQ(slurp(root() / "o/late"), "l");
  EXPECT_EQ(slurp(root() / "o/sub/new"), "n");
  EXPECT_TRUE(m.count("/o/sub"));
  EXPECT_TRUE(fs::exists(root() / "other"));
  EXPECT_FALSE(fs::exists(root() / "o/.wh..wh..opq"));
}

TEST_F(Unpack, LaterEntriesReplaceEarlierOnes) {
  run({{dir("d1"), file("d1/child", "c"), file("f1", "file"), dir("d2", 0755), file("d2/kept", "k"),
        file("s", "was a file")},
       {file("d1", "now a file"), dir("f1", 0700), file("f1/in", "i"), dir("d2", 0711),
        symlink("s", "/target")}});
  auto m = manifest();
  EXPECT_EQ(slurp(root() / "d1"), "now a file");
  EXPECT_FALSE(m.count("/d1/child"));
  EXPECT_EQ(m.at("/d1").type, EntryType::kFile);
  EXPECT_EQ(m.at("/f1").type, EntryType::kDir);
  EXPECT_EQ(slurp(root() / "f1/in"), "i");
  EXPECT_EQ(m.at("/d2").mode, 0711u) << "dir over dir updates the metadata";
  EXPECT_TRUE(fs::exists(root() / "d2/kept")) << "and keeps the children";
  EXPECT_EQ(m.at("/s").type, EntryType::kSymlink);
  EXPECT_EQ(fs::read_symlink(root() / "s"), "/target");
}

TEST_F(Unpack, Utf8NamesAreKeptByteForByte) {
  run({{file("caf\xc3\xa9/\xc3\xb1.txt", "u"), symlink("l", "caf\xc3\xa9")}});
  EXPECT_EQ(slurp(root() / "caf\xc3\xa9/\xc3\xb1.txt"), "u");
  EXPECT_TRUE(manifest().count("/caf\xc3\xa9/\xc3\xb1.txt"));
  EXPECT_EQ(manifest().at("/l").link, "caf\xc3\xa9");
  fs::remove_all(dest_);
  std::string e = error_of({{file("latin1-\xe9", "x")}});
  EXPECT_NE(e.find("not valid UTF-8"), std::string::npos) << e;
}

TEST_F(Unpack, RootEntrySetsTheRootsMetadata) {
  TarEntry r = dir("./", 0750);
  r.uid = 5;
  run({{r, file("./x", "x")}});
  EXPECT_EQ(manifest().at("/").mode, 0750u);
  EXPECT_EQ(manifest().at("/").uid, 5u);
  EXPECT_TRUE(fs::exists(root() / "x"));
}

// CI runs as root, where permission bits are not enforced: unpack as nobody in a child to
// prove that read-only and unreadable directories from the image, and entries replaced or
// whited out inside them, need no privilege.
TEST_F(Unpack, WorksWithoutRoot) {
  std::vector<std::vector<TarEntry>> layers{
      {dir("ro", 0555), file("ro/f", "1", 0444), dir("none", 0000), file("none/g", "2", 0000),
       dir("none/sub", 0000), file("none/sub/h", "3", 0000)},
      {file("ro/f", "replaced", 0400), file("ro/new", "n"), file("none/.wh.sub", ""),
       file("none/g", "replaced too", 0)}};
  std::vector<LayerBlob> blobs;
  for (const auto& entries : layers) blobs.push_back(store_blob(blobs_, make_tar(entries), kTar));
  if (getuid() == 0) {
    ASSERT_EQ(chown(work_.path().c_str(), 65534, 65534), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
      try {
        unpack_layers(blobs, dest_, options());
      } catch (const std::exception& err) {
        std::cerr << "as nobody: " << err.what() << "\n";
        _exit(1);
      }
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    struct stat st {};
    ASSERT_EQ(stat((root() / "ro/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u) << "the files belong to the unprivileged user";
  } else {
    unpack_layers(blobs, dest_, options());
  }
  EXPECT_EQ(slurp(root() / "ro/f"), "replaced");
  EXPECT_EQ(slurp(root() / "none/g"), "replaced too");
  EXPECT_FALSE(fs::exists(root() / "none/sub"));
  auto m = manifest();
  EXPECT_EQ(m.at("/ro").mode, 0555u);
  EXPECT_EQ(m.at("/none").mode, 0u);
  EXPECT_EQ(m.at("/ro/f").mode, 0400u);
  fs::remove_all(dest_);  // removable by whoever unpacked it
}

TEST(UnpackMetadata, RoundTripAndTruncation) {
  TempDir dir;
  Entry a, b, c;
  a.path = "/";
  a.type = EntryType::kDir;
  a.mode = 0755;
  b.path = "/dev/null";
  b.type = EntryType::kCharDevice;
  b.mode = 0666;
  b.major = 1;
  b.minor = 3;
  c.path = "/x";
  c.mode = 04755;
  c.uid = 7;
  c.gid = 8;
  c.mtime = -5;
  c.size = 9;
  c.hardlink = "/y";
  c.xattrs = {{"security.capability", std::string("\0\xff\x01", 3)}};
  write_metadata(dir.path() / "m", {a, b, c});
  EXPECT_EQ(read_metadata(dir.path() / "m"), (std::vector<Entry>{a, b, c}));
  std::string text = slurp(dir.path() / "m");
  std::ofstream(dir.path() / "t") << text.substr(0, text.rfind('\n', text.size() - 2) + 1);
  EXPECT_THROW(read_metadata(dir.path() / "t"), std::runtime_error);
}

TEST(UnpackMetadata, Base64) {
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("foob"), std::string("\0\xff\x10\x80", 4)})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_THROW(base64_decode("Zm=v"), std::runtime_error);
  EXPECT_THROW(base64_decode("Zm9"), std::runtime_error);
}

TEST(UnpackSniff, MagicBytes) {
  EXPECT_EQ(sniff_compression("\x1f\x8b\x08"), "gzip");
  EXPECT_EQ(sniff_compression("\x28\xb5\x2f\xfd"), "zstd");
  EXPECT_EQ(sniff_compression(std::string_view("\xfd"
                                               "7zXZ\0",
                                               6)),
            "xz");
  EXPECT_EQ(sniff_compression("BZh9"), "bzip2");
  EXPECT_EQ(sniff_compression("etc/passwd"), "none");
  EXPECT_EQ(sniff_compression(""), "none");
}

}  // namespace
