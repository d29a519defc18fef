// The fixture images are what later tests rely on: valid OCI layouts whose blobs match their
// digests, the image configs and layer kinds promised in tests/fixtures/make-fixtures, and
// deterministic output from c2w-mkimage.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "oci/layout.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace {

namespace fs = std::filesystem;
using c2w::oci::Layout;
using c2w::testing::fixture;
using nlohmann::json;

struct Image {
  json manifest, config;
};

Image load(const Layout& layout, const std::string& tag) {
  auto desc = layout.find_tag(tag);
  EXPECT_TRUE(desc) << "no tag " << tag;
  if (!desc) return {};
  Image image;
  image.manifest = layout.read_json_blob((*desc)["digest"].get<std::string>());
  image.config = layout.read_json_blob(image.manifest["config"]["digest"].get<std::string>());
  for (auto& layer : image.manifest["layers"])
    EXPECT_EQ(layout.read_blob(layer["digest"].get<std::string>()).size(),
              layer["size"].get<size_t>());
  return image;
}

TEST(Fixtures, HelloConfigSetsRuntimeSemantics) {
  Image img = load(Layout::open(fixture("hello") / "layout"), "latest");
  const json& c = img.config["config"];
  EXPECT_EQ(img.config["architecture"], "riscv64");
  EXPECT_EQ(c["Entrypoint"], json({"/usr/bin/hello"}));
  EXPECT_EQ(c["Cmd"], json({"--greet", "world"}));
  EXPECT_EQ(c["WorkingDir"], "/work");
  EXPECT_EQ(c["User"], "hello");
  EXPECT_NE(c["Env"].dump().find("HELLO_ENV=from-image"), std::string::npos);
}

TEST(Fixtures, BusyboxHasAppletsAndDockerArchive) {
  fs::path bb = fixture("busybox");
  EXPECT_EQ(fs::read_symlink(bb / "rootfs/bin/sh"), "/bin/busybox");
  EXPECT_TRUE(fs::is_symlink(bb / "rootfs/bin/ls"));
  Image img = load(Layout::open(bb / "layout"), "latest");
  EXPECT_EQ(img.manifest["layers"].size(), 1u);
  auto listing = c2w::testing::run_command({"tar", "-tf", (bb / "busybox.tar").string()});
  ASSERT_EQ(listing.exit_code, 0) << listing.output;
  EXPECT_NE(listing.output.find("manifest.json"), std::string::npos);
}

TEST(Fixtures, DebianHasThreeLayerKindsWhiteoutAndOpaqueDir) {
  Image img = load(Layout::open(fixture("debian") / "layout"), "latest");
  ASSERT_EQ(img.manifest["layers"].size(), 3u);
  EXPECT_EQ(img.manifest["layers"][0]["mediaType"], c2w::oci::media_type::kLayerGzip);
  EXPECT_EQ(img.manifest["layers"][1]["mediaType"], c2w::oci::media_type::kLayerZstd);
  EXPECT_EQ(img.manifest["layers"][2]["mediaType"], c2w::oci::media_type::kLayerTar);
  EXPECT_EQ(img.config["rootfs"]["diff_ids"].size(), 3u);
  fs::path expected = fixture("debian") / "rootfs";
  EXPECT_TRUE(fs::exists(expected / "usr/bin/dpkg"));
  EXPECT_TRUE(fs::exists(expected / "usr/bin/apt-get"));
  EXPECT_FALSE(fs::exists(expected / "etc/c2w-fixture-removed"));
  EXPECT_TRUE(fs::exists(expected / "opt/fixture-opaque/new-file"));
  EXPECT_FALSE(fs::exists(expected / "opt/fixture-opaque/old-file"));
  // The uncompressed third layer carries the opaque marker, the second the whiteout.
  Layout layout = Layout::open(fixture("debian") / "layout");
  std::string third = layout.read_blob(img.manifest["layers"][2]["digest"].get<std::string>());
  EXPECT_NE(third.find("opt/fixture-opaque/.wh..wh..opq"), std::string::npos);
}

TEST(Fixtures, MultiArchIndexNamesBothPlatforms) {
  Layout layout = Layout::open(fixture("multiarch") / "layout");
  auto desc = layout.find_tag("latest");
  ASSERT_TRUE(desc);
  EXPECT_EQ((*desc)["mediaType"], c2w::oci::media_type::kImageIndex);
  json index = layout.read_json_blob((*desc)["digest"].get<std::string>());
  ASSERT_EQ(index["manifests"].size(), 2u);
  EXPECT_EQ(index["manifests"][0]["platform"]["architecture"], "amd64");
  EXPECT_EQ(index["manifests"][1]["platform"]["architecture"], "riscv64");
}

TEST(Fixtures, MkimageIsDeterministic) {
  const std::string tool = C2W_MKIMAGE_PATH;
  c2w::testing::TempDir dir;
  std::ofstream(dir.path() / "config.json") << R"({"Cmd":["sh"]})";
  std::string digests[2];
  for (int i = 0; i < 2; ++i) {
    fs::path layout = dir.path() / ("layout" + std::to_string(i));
    auto r = c2w::testing::run_command(
        {tool, "image", "--layout", layout.string(), "--tag", "t", "--platform", "linux/riscv64",
         "--config", (dir.path() / "config.json").string(), "--layer",
         "gzip:" + (fixture("busybox") / "rootfs").string(), "--layer",
         "zstd:" + (fixture("busybox") / "rootfs").string()});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    digests[i] = r.output;
  }
  EXPECT_EQ(digests[0], digests[1]);
  // Bad input is a clear error, not a crash.
  auto bad = c2w::testing::run_command({tool, "image", "--layout", dir.path().string(), "--tag",
                                        "t", "--platform", "linux/riscv64", "--config",
                                        "/nonexistent.json", "--layer", "/nonexistent"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("cannot read config"), std::string::npos) << bad.output;
}

}  // namespace
