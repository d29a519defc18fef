// The unpack op on the fixture images: the trees must be identical to the expected rootfs trees
// made as root by tests/fixtures/make-fixtures (names, types, contents, link targets, hard links
// on disk; modes, owners, device numbers and xattrs in the manifest), and broken copies of the
// real blobs must fail clearly and leave nothing behind.
#include "ops/unpack/unpack.h"

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
#include "ops/unpack/metadata.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w::unpack;
using c2w::oci::Layout;
using c2w::testing::fixture;
using c2w::testing::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

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

// Everything the expected tree says, checked against our disk tree and manifest.
void expect_same_tree(const fs::path& expected, const fs::path& dest) {
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
