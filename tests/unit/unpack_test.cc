// The unpack op on layers built in the test: entry types and metadata, OCI whiteouts and opaque
// dirs, replacement rules, containment of hostile names and links, and clear errors that leave
// nothing behind.
#include "ops/unpack/unpack.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "ops/unpack/metadata.h"
#include "ops/unpack/rootfs.h"
#include "tests/support/process.h"
#include "tests/unit/tar_builder.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w::unpack;
using c2w::testing::dir;
using c2w::testing::file;
using c2w::testing::hardlink;
using c2w::testing::make_tar;
using c2w::testing::store_blob;
using c2w::testing::symlink;
using c2w::testing::TarEntry;
using c2w::testing::TempDir;

constexpr const char* kTar = "application/vnd.oci.image.layer.v1.tar";
constexpr const char* kGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* kZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Unpack : public ::testing::Test {
 protected:
  // Unpacks layers (each a list of entries, uncompressed) into a fresh dest.
  UnpackResult run(const std::vector<std::vector<TarEntry>>& layers) {
    std::vector<LayerBlob> blobs;
    for (const auto& entries : layers) blobs.push_back(store_blob(blobs_, make_tar(entries), kTar));
    return unpack_layers(blobs, dest_, options());
  }
  UnpackOptions options() {
    UnpackOptions o;
    o.sync = false;
    return o;
  }
  // The error message of unpacking `layers`, after checking nothing was left behind.
  std::string error_of(const std::vector<LayerBlob>& blobs) {
    std::string message;
    try {
      unpack_layers(blobs, dest_, options());
      ADD_FAILURE() << "unpack succeeded";
    } catch (const UnpackError& err) {
      message = err.what();
    }
    std::cout << "  error: " << message << "\n";  // the log shows what users would read
    EXPECT_FALSE(fs::exists(dest_));
    EXPECT_EQ(leftovers(), std::vector<std::string>{}) << "temp dirs left beside dest";
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
    return message;
  }
  std::string error_of(const std::vector<std::vector<TarEntry>>& layers) {
    std::vector<LayerBlob> blobs;
    for (const auto& entries : layers) blobs.push_back(store_blob(blobs_, make_tar(entries), kTar));
    return error_of(blobs);
  }
  std::vector<std::string> leftovers() {
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(work_.path()))
      if (e.path().filename() != "blobs" && e.path().filename() != "outside")
        names.push_back(e.path().filename().string());
    return names;
  }
  std::map<std::string, Entry> manifest() {
    std::map<std::string, Entry> m;
    for (Entry& e : read_metadata(dest_ / "metadata.jsonl")) m[e.path] = e;
    return m;
  }
  fs::path root() const { return dest_ / "rootfs"; }

  TempDir work_{"c2w-unpack-test"};
  fs::path blobs_ = work_.path() / "blobs";
  fs::path dest_ = work_.path() / "dest";
};

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

// ---- hostile layers: rejected with the entry named, or contained in rootfs/

TEST_F(Unpack, RejectsDotDotAndAbsoluteNames) {
  std::string e = error_of({{file("../escape", "x")}});
  EXPECT_NE(e.find("layer 1/1 sha256:"), std::string::npos) << e;
  EXPECT_NE(e.find("entry '../escape'"), std::string::npos) << e;
  EXPECT_NE(e.find("'..' component"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(work_.path() / "escape"));
  e = error_of({{file("a/../../escape", "x")}});
  EXPECT_NE(e.find("'..' component"), std::string::npos) << e;
  e = error_of({{file("/abs/path", "x")}});
  EXPECT_NE(e.find("entry '/abs/path': absolute name"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists("/abs/path"));
}

TEST_F(Unpack, SymlinkedParentsStayInsideTheRoot) {
  fs::path outside = fs::path("/tmp") / ("c2w-unpack-outside-" + std::to_string(getpid()));
  ASSERT_FALSE(fs::exists(outside));
  run({{symlink("a", outside.string()), file("a/x", "contained"), symlink("b", "../../.."),
        file("b/y", "contained too"), symlink("c", "/"), file("c/etc/z", "z")},
       {file("a/later", "l")}});
  EXPECT_FALSE(fs::exists(outside));
  EXPECT_FALSE(fs::exists(work_.path() / "y"));
  EXPECT_FALSE(fs::exists(fs::path("/y")) && slurp("/y") == "contained too");
  // Resolved as in a chroot: the absolute target starts at rootfs/, ".." stops there.
  fs::path inside = root() / outside.relative_path();
  EXPECT_EQ(slurp(inside / "x"), "contained");
  EXPECT_EQ(slurp(inside / "later"), "l");
  EXPECT_EQ(slurp(root() / "y"), "contained too");
  EXPECT_EQ(slurp(root() / "etc/z"), "z");
  auto m = manifest();
  EXPECT_TRUE(m.count("/" + outside.relative_path().string() + "/x"))
      << "recorded at its real path";
  EXPECT_TRUE(m.count("/y"));
  EXPECT_FALSE(m.count("/a/x"));
}

TEST_F(Unpack, SymlinkReplacedByADirectoryIsNotFollowed) {
  fs::create_directories(work_.path() / "outside");
  run({{symlink("a", (work_.path() / "outside").string())},
       {dir("a"), file("a/x", "in the real dir")}});
  EXPECT_TRUE(fs::is_empty(work_.path() / "outside"));
  EXPECT_FALSE(fs::is_symlink(root() / "a"));
  EXPECT_EQ(slurp(root() / "a/x"), "in the real dir");
  // Same layer: the directory entry replaces the symlink too.
  fs::remove_all(dest_);
  run({{symlink("b", "../../outside"), dir("b"), file("b/x", "x")}});
  EXPECT_TRUE(fs::is_empty(work_.path() / "outside"));
  EXPECT_EQ(manifest().at("/b").type, EntryType::kDir);
}

TEST_F(Unpack, HardLinksMustPointIntoTheTreeAtExtractedFiles) {
  std::string e = error_of({{hardlink("x", "../outside/file")}});
  EXPECT_NE(e.find("entry 'x': hard link target '../outside/file'"), std::string::npos) << e;
  e = error_of({{hardlink("x", "/etc/passwd")}});
  EXPECT_NE(e.find("absolute name"), std::string::npos) << e;
  e = error_of({{hardlink("early", "late"), file("late", "l")}});
  EXPECT_NE(e.find("entry 'early': hard link to 'late', which is not in the tree"),
            std::string::npos)
      << e;
  e = error_of({{dir("d"), hardlink("x", "d")}});
  EXPECT_NE(e.find("hard link to directory 'd'"), std::string::npos) << e;
  // Through a symlinked parent the target is looked up inside the root too.
  fs::create_directories(work_.path() / "outside");
  std::ofstream(work_.path() / "outside/file") << "host";
  e = error_of({{symlink("s", (work_.path() / "outside").string()), hardlink("x", "s/file")}});
  EXPECT_NE(e.find("not in the tree"), std::string::npos) << e;
  // Links to lower layers are fine.
  run({{file("lower", "l")}, {hardlink("upper", "lower")}});
  EXPECT_EQ(manifest().at("/upper").hardlink, "/lower");
}

TEST_F(Unpack, RejectsWhiteoutOfDotDotAndSymlinkLoops) {
  fs::create_directories(work_.path() / "outside");
  std::string e = error_of({{dir("a"), file("a/.wh...", "")}});
  EXPECT_NE(e.find("entry 'a/.wh...': whiteout of '..' is not a valid name"), std::string::npos)
      << e;
  EXPECT_TRUE(fs::exists(work_.path() / "outside"));
  e = error_of({{file("a/.wh.b/c", "x")}});
  EXPECT_NE(e.find("entry inside the whiteout '.wh.b'"), std::string::npos) << e;
  e = error_of({{symlink("loop", "loop"), file("loop/x", "x")}});
  EXPECT_NE(e.find("too many levels of symlinks"), std::string::npos) << e;
  e = error_of({{file("f", "x"), file("f/x", "x")}});
  EXPECT_NE(e.find("/f is not a directory"), std::string::npos) << e;
}

// libarchive 3.6's tar reader maps every typeflag to a supported type (unknown ones are regular
// files, as POSIX says), so an unsupported type can only be handed to the writer directly.
TEST(UnpackWriter, UnsupportedEntryTypeIsAnError) {
  TempDir dir;
  RootfsWriter writer(dir.path());
  archive_entry* e = archive_entry_new();
  archive_entry_copy_pathname(e, "sock");
  archive_entry_set_filetype(e, AE_IFSOCK);
  archive_entry_set_perm(e, 0755);
  try {
    writer.apply(nullptr, e);
    ADD_FAILURE() << "a socket entry was accepted";
  } catch (const EntryError& err) {
    EXPECT_NE(std::string(err.what()).find("entry 'sock' has unsupported type"), std::string::npos)
        << err.what();
  }
  archive_entry_free(e);
  EXPECT_FALSE(fs::exists(dir.path() / "sock"));
}

// ---- broken blobs: clear errors naming the layer, nothing left behind

TEST_F(Unpack, CorruptOrTruncatedOrMislabelledBlobs) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 50; ++i)
    entries.push_back(file("f" + std::to_string(i),
                           std::string(20000, char('a' + i % 26)) + std::to_string(i * 7919)));
  std::string gz = make_tar(entries, "gzip");
  std::string corrupt = gz;
  for (size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; ++i) corrupt[i] ^= 0x5a;
  LayerBlob good = store_blob(blobs_, make_tar({file("ok", "ok")}), kTar);
  std::string e = error_of({good, store_blob(blobs_, corrupt, kGzip)});
  EXPECT_NE(e.find("layer 2/2 sha256:"), std::string::npos) << e;
  EXPECT_NE(e.find("gzip stream"), std::string::npos) << e;
  EXPECT_NE(e.find("fetch the image again"), std::string::npos) << e;

  std::string zst = make_tar(entries, "zstd");
  e = error_of({store_blob(blobs_, zst.substr(0, zst.size() / 2), kZstd)});
  EXPECT_NE(e.find("layer 1/1 sha256:"), std::string::npos) << e;
  EXPECT_NE(e.find("zstd stream"), std::string::npos) << e;

  LayerBlob wrong = store_blob(blobs_, gz, kGzip);
  std::string claimed = c2w::oci::Sha256::of("something else");
  wrong.digest = claimed;
  e = error_of({wrong});
  EXPECT_NE(e.find("layer 1/1 " + claimed + ": the blob's sha256 is " + c2w::oci::Sha256::of(gz) +
                   ", not its digest"),
            std::string::npos)
      << e;

  LayerBlob bad_diff = store_blob(blobs_, gz, kGzip);
  bad_diff.diff_id = claimed;
  e = error_of({bad_diff});
  EXPECT_NE(e.find("not the image config's diff_id"), std::string::npos) << e;

  e = error_of({store_blob(blobs_, zst, kGzip)});
  EXPECT_NE(e.find("says gzip but the data is zstd"), std::string::npos) << e;

  LayerBlob missing = good;
  missing.file = blobs_ / "nonexistent";
  e = error_of({missing});
  EXPECT_NE(e.find("cannot open"), std::string::npos) << e;
}

TEST_F(Unpack, CompressionIsSniffedForPlainAndUnknownMediaTypes) {
  std::vector<TarEntry> entries{file("hello", "world")};
  std::vector<LayerBlob> blobs{
      store_blob(blobs_, make_tar(entries, "gzip"), kTar),
      store_blob(blobs_, make_tar({file("z", "zstd")}, "zstd"),
                 "application/vnd.docker.image.rootfs.diff.tar.gzip"),
      store_blob(blobs_, make_tar({file("x", "xz")}, "xz"), "application/x-unknown"),
      store_blob(blobs_, make_tar({file("n", "none")}), "")};
  UnpackResult r = unpack_layers(blobs, dest_);  // default options: synced before the rename
  ASSERT_EQ(r.layers.size(), 4u);
  EXPECT_EQ(r.layers[0].compression, "gzip");
  EXPECT_EQ(r.layers[1].compression, "zstd");
  EXPECT_EQ(r.layers[2].compression, "xz");
  EXPECT_EQ(r.layers[3].compression, "none");
  EXPECT_EQ(slurp(root() / "hello"), "world");
  EXPECT_EQ(slurp(root() / "x"), "xz");
  // diff_id is the uncompressed tar's digest, whatever the compression.
  EXPECT_EQ(r.layers[0].diff_id, c2w::oci::Sha256::of(make_tar(entries)));
  EXPECT_EQ(r.layers[3].diff_id, blobs[3].digest);
}

TEST_F(Unpack, DestinationMustNotExist) {
  fs::create_directories(dest_);
  try {
    run({{file("x", "x")}});
    FAIL() << "unpack into an existing dir succeeded";
  } catch (const UnpackError& err) {
    EXPECT_NE(std::string(err.what()).find("already exists"), std::string::npos) << err.what();
  }
  EXPECT_TRUE(fs::is_empty(dest_));
}

TEST_F(Unpack, ProgressCountsCompressedBytesAndCanCancel) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 8; ++i)
    entries.push_back(file("f" + std::to_string(i), std::string(1 << 20, char(i))));
  std::vector<LayerBlob> blobs{store_blob(blobs_, make_tar(entries), kTar),
                               store_blob(blobs_, make_tar(entries, "gzip"), kGzip)};
  std::vector<std::vector<uint64_t>> seen(2);
  UnpackOptions o = options();
  o.progress = [&](size_t layer, uint64_t read, uint64_t total) {
    EXPECT_EQ(total, fs::file_size(blobs.at(layer).file));
    seen.at(layer).push_back(read);
  };
  UnpackResult r = unpack_layers(blobs, dest_, o);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_FALSE(seen[i].empty());
    EXPECT_TRUE(std::is_sorted(seen[i].begin(), seen[i].end()));
    EXPECT_EQ(seen[i].back(), fs::file_size(blobs[i].file));
    EXPECT_EQ(r.layers[i].compressed_bytes, fs::file_size(blobs[i].file));
  }
  EXPECT_GT(seen[0].size(), 2u) << "an 8 MiB layer is reported in several steps";
  EXPECT_EQ(r.chain_id, c2w::oci::Sha256::of(r.layers[0].diff_id + " " + r.layers[1].diff_id));

  struct Cancelled {};
  fs::remove_all(dest_);
  o.progress = [](size_t, uint64_t read, uint64_t) {
    if (read > (2 << 20)) throw Cancelled{};
  };
  EXPECT_THROW(unpack_layers(blobs, dest_, o), Cancelled);
  EXPECT_FALSE(fs::exists(dest_));
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
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
