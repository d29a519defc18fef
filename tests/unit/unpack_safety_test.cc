// The unpack op against hostile and broken layers: names and links that try to leave the root
// are rejected or contained, broken blobs fail with one clear line naming the layer, and a
// failed unpack leaves nothing behind. Also compression sniffing, progress and cancellation.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/unpack/rootfs.h"
#include "ops/unpack/unpack.h"
#include "ownership/manifest.h"
#include "tests/unit/unpack_support.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w::unpack;
using namespace c2w::ownership;
using namespace c2w::testing;
using c2w::testing::symlink;  // not ::symlink(2)

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

TEST_F(Unpack, HostRefusalsSaySo) {
  std::string e = error_of({{file(std::string(300, 'n'), "x")}});
  EXPECT_NE(e.find("File name too long; the host refused it"), std::string::npos) << e;
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

}  // namespace
