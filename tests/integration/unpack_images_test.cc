// The unpack op on the fixture images: the trees must be identical to the expected rootfs trees
// made as root by tests/fixtures/make-fixtures (names, types, contents, link targets, hard links
// on disk; modes, owners, device numbers and xattrs in the manifest), and broken copies of the
// real blobs must fail clearly and leave nothing behind.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "oci/layout.h"
#include "oci/sha256.h"
#include "ops/unpack/image.h"
#include "ops/unpack/unpack.h"
#include "ownership/manifest.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/tree_compare.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w::unpack;
using namespace c2w::ownership;
using c2w::oci::Layout;
using c2w::testing::expect_same_tree;
using c2w::testing::fixture;
using c2w::testing::slurp;
using c2w::testing::TempDir;

UnpackResult unpack_image(const fs::path& layout, const fs::path& dest,
                          const std::string& platform = "") {
  ImageLayers image = load_image_layers(Layout::open(layout), "latest", platform);
  UnpackOptions options;
  options.sync = false;
  UnpackResult r = unpack_layers(image.layers, dest, options);
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerStats& l = r.layers[i];
    std::cout << "layer " << i + 1 << " " << l.compression << ": " << l.compressed_bytes / 1e6
              << " MB -> " << l.uncompressed_bytes / 1e6 << " MB, " << l.entries << " entries, "
              << l.seconds << " s, " << l.uncompressed_bytes / 1e6 / l.seconds
              << " MB/s uncompressed\n";
    EXPECT_EQ(l.diff_id, image.config["rootfs"]["diff_ids"][i]);
  }
  return r;
}

TEST(UnpackImages, BusyboxIsIdenticalToItsRootfs) {
  TempDir dir;
  UnpackResult r = unpack_image(fixture("busybox") / "layout", dir.path() / "out");
  EXPECT_EQ(r.rootfs, dir.path() / "out/rootfs");
  expect_same_tree(fixture("busybox") / "rootfs", dir.path() / "out");
}

TEST(UnpackImages, DebianIsIdenticalToItsRootfsAfterWhiteoutAndOpaqueDir) {
  TempDir dir;
  fs::path out = dir.path() / "out";
  UnpackResult r = unpack_image(fixture("debian") / "layout", out);
  ASSERT_EQ(r.layers.size(), 3u);
  EXPECT_EQ(r.layers[0].compression, "gzip");
  EXPECT_EQ(r.layers[1].compression, "zstd");
  EXPECT_EQ(r.layers[2].compression, "none");
  EXPECT_FALSE(fs::exists(out / "rootfs/etc/c2w-fixture-removed"));
  EXPECT_FALSE(fs::exists(out / "rootfs/etc/.wh.c2w-fixture-removed"));
  std::set<std::string> opaque;
  for (auto& e : fs::directory_iterator(out / "rootfs/opt/fixture-opaque"))
    opaque.insert(e.path().filename().string());
  EXPECT_EQ(opaque, std::set<std::string>{"new-file"});
  expect_same_tree(fixture("debian") / "rootfs", out);
}

TEST(UnpackImages, HelloOwnershipLivesInTheManifest) {
  TempDir dir;
  unpack_image(fixture("hello") / "layout", dir.path() / "out");
  std::map<std::string, Entry> m;
  for (Entry& e : read_metadata(dir.path() / "out/metadata.jsonl")) m[e.path] = e;
  EXPECT_EQ(m.at("/work").uid, 1000u);
  EXPECT_EQ(m.at("/work").gid, 1000u);
  EXPECT_EQ(m.at("/tmp").mode, 01777u);
  EXPECT_EQ(m.at("/usr/bin/hello").mode, 0755u);
  struct stat st {};
  ASSERT_EQ(lstat((dir.path() / "out/rootfs/work").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, getuid()) << "the disk tree belongs to whoever unpacked it";
  ASSERT_EQ(lstat((dir.path() / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "world-writable dirs inside stay private";
}

TEST(UnpackImages, ImageIndexNeedsAPlatform) {
  Layout layout = Layout::open(fixture("multiarch") / "layout");
  try {
    load_image_layers(layout, "latest");
    ADD_FAILURE() << "an index without a platform was accepted";
  } catch (const std::runtime_error& err) {
    EXPECT_NE(std::string(err.what()).find("[linux/amd64, linux/riscv64]"), std::string::npos)
        << err.what();
  }
  EXPECT_THROW(load_image_layers(layout, "latest", "linux/s390x"), std::runtime_error);
  EXPECT_THROW(load_image_layers(layout, "nonexistent"), std::runtime_error);
  TempDir dir;
  unpack_image(fixture("multiarch") / "layout", dir.path() / "out", "linux/riscv64");
  expect_same_tree(fixture("busybox") / "rootfs", dir.path() / "out");
}

TEST(UnpackImages, BrokenCopiesOfRealBlobsFailAndLeaveNothing) {
  TempDir dir;
  ImageLayers debian = load_image_layers(Layout::open(fixture("debian") / "layout"), "latest");
  ImageLayers busybox = load_image_layers(Layout::open(fixture("busybox") / "layout"), "latest");
  auto error_of = [&](std::vector<LayerBlob> layers) {
    fs::path dest = dir.path() / "dest";
    UnpackOptions options;
    options.sync = false;
    std::string message;
    try {
      unpack_layers(layers, dest, options);
      ADD_FAILURE() << "unpack succeeded";
    } catch (const UnpackError& err) {
      message = err.what();
    }
    std::cout << "  error: " << message << "\n";
    EXPECT_FALSE(fs::exists(dest));
    size_t entries = 0;
    for (auto& e : fs::directory_iterator(dir.path())) entries += e.path().filename() != "blobs";
    EXPECT_EQ(entries, 0u) << "something was left beside dest";
    return message;
  };
  fs::create_directories(dir.path() / "blobs");
  // The zstd layer cut in half, recorded under its own digest: the decoder notices.
  std::string zst = slurp(debian.layers[1].file);
  LayerBlob truncated = debian.layers[1];
  truncated.file = dir.path() / "blobs/truncated";
  std::ofstream(truncated.file, std::ios::binary) << zst.substr(0, zst.size() / 2);
  truncated.digest = c2w::oci::Sha256::of(zst.substr(0, zst.size() / 2));
  truncated.diff_id.clear();
  std::string e = error_of({busybox.layers[0], truncated});
  EXPECT_NE(e.find("layer 2/2 " + truncated.digest + ": zstd stream"), std::string::npos) << e;
  // The same under the real digest: the digest mismatch is the cause reported.
  truncated.digest = debian.layers[1].digest;
  e = error_of({truncated});
  EXPECT_NE(e.find("the blob's sha256 is"), std::string::npos) << e;
  // A corrupt byte run in the middle of busybox's gzip layer.
  std::string gz = slurp(busybox.layers[0].file);
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 16; ++i) gz[i] = char(~gz[i]);
  LayerBlob corrupt = busybox.layers[0];
  corrupt.file = dir.path() / "blobs/corrupt";
  std::ofstream(corrupt.file, std::ios::binary) << gz;
  corrupt.digest = c2w::oci::Sha256::of(gz);
  e = error_of({corrupt});
  EXPECT_NE(e.find("gzip stream"), std::string::npos) << e;
  EXPECT_NE(e.find("fetch the image again"), std::string::npos) << e;
  // Layers in the wrong order: the opaque layer alone is fine, but a diff_id list that does
  // not match is caught.
  LayerBlob swapped = debian.layers[2];
  swapped.diff_id = debian.layers[0].diff_id;
  e = error_of({swapped});
  EXPECT_NE(e.find("not the image config's diff_id"), std::string::npos) << e;
}

}  // namespace
