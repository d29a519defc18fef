// The shared cache and registry outputs end to end, on a real docker-registry on loopback:
// --cache-to from one cache dir, --cache-from into another (empty) one gives CACHED vertices
// and byte-identical output; a blob tampered with in the registry's storage is refused and the
// step runs instead; the same through an OCI layout directory; --output type=registry pushes
// the result as an OCI artifact whose layer carries the file's media type.
#include "shared_cache/shared_cache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "oci/sha256.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/tree_compare.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::CommandResult;
using c2w::testing::fixture;
using c2w::testing::TempDir;

CommandResult c2w_run(std::vector<std::string> args) {
  args.insert(args.begin(), C2W_BINARY_PATH);
  return c2w::testing::run_command(args);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

std::string bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The initramfs of the busybox fixture: fetch + unpack + rootfs, seconds cold.
CommandResult build_rootfs(const fs::path& cache, const fs::path& out,
                           std::vector<std::string> extra) {
  std::vector<std::string> args = {"--cache-dir",
                                   cache.string(),
                                   "--progress=plain",
                                   "--target",
                                   "rootfs",
                                   "--output",
                                   "type=local,dest=" + out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("oci-layout:" + (fixture("busybox") / "layout").string());
  return c2w_run(args);
}

TEST(SharedCache, RegistryRoundTripThenATamperedBlobIsRefused) {
  c2w::testing::LoopbackRegistry registry;
  TempDir dir;
  std::string ref = registry.host() + "/c2w/cache:rootfs";
  // Nothing to import yet (a 404 from the registry): a warning, and the build runs.
  CommandResult first =
      build_rootfs(dir.path() / "cache1", dir.path() / "out1",
                   {"--insecure-registry", registry.host(), "--cache-from",
                    "type=registry,ref=" + ref, "--cache-to", "type=registry,ref=" + ref});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(contains(first.output, "no shared cache at " + ref)) << first.output;
  EXPECT_FALSE(contains(first.output, "CACHED")) << first.output;
  EXPECT_TRUE(contains(first.output, "exported the cache (2 records, 1 blobs")) << first.output;
  std::string initramfs = bytes(dir.path() / "out1" / "rootfs.cpio.zst");
  ASSERT_FALSE(initramfs.empty());

  // An empty cache dir and the shared cache: unpack and rootfs are CACHED (only the
  // volatile fetch runs), the initramfs is pulled, and the bytes are the same.
  CommandResult second = build_rootfs(
      dir.path() / "cache2", dir.path() / "out2",
      {"--insecure-registry", registry.host(), "--cache-from", "type=registry,ref=" + ref});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(count(second.output, " CACHED"), 2u) << second.output;
  EXPECT_TRUE(contains(second.output, "pulling sha256:")) << second.output;
  EXPECT_FALSE(contains(second.output, "shared cache not used")) << second.output;
  EXPECT_EQ(bytes(dir.path() / "out2" / "rootfs.cpio.zst"), initramfs);

  // Corrupt the initramfs blob in the registry's storage (same size, one byte flipped).
  std::string hex = c2w::oci::Sha256::of(initramfs).substr(7);
  fs::path data =
      registry.storage_dir() / "docker/registry/v2/blobs/sha256" / hex.substr(0, 2) / hex / "data";
  ASSERT_TRUE(fs::exists(data));
  {
    std::fstream f(data, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    char c = static_cast<char>(initramfs[100] ^ 0x5a);
    f.write(&c, 1);
  }
  CommandResult third = build_rootfs(
      dir.path() / "cache3", dir.path() / "out3",
      {"--insecure-registry", registry.host(), "--cache-from", "type=registry,ref=" + ref});
  ASSERT_EQ(third.exit_code, 0) << third.output;
  EXPECT_TRUE(contains(third.output, "shared cache not used")) << third.output;
  EXPECT_TRUE(contains(third.output, "does not match its digest")) << third.output;
  EXPECT_EQ(bytes(dir.path() / "out3" / "rootfs.cpio.zst"), initramfs);
  // Nothing corrupt was kept: the cache dir serves the rebuilt initramfs to a rerun.
  CommandResult again = build_rootfs(dir.path() / "cache3", dir.path() / "out4", {});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(bytes(dir.path() / "out4" / "rootfs.cpio.zst"), initramfs);
}

TEST(SharedCache, TlsRegistryWithBasicAuth) {
  c2w::testing::LoopbackRegistry registry({.tls = true, .user = "tester", .password = "pw"});
  TempDir dir;
  std::string ref = registry.host() + "/c2w/cache:auth";
  std::vector<std::string> tls = {"--registry-ca", registry.ca_certificate().string()};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), tls.begin(), tls.end());
    return extra;
  };
  CommandResult wrong =
      build_rootfs(dir.path() / "cache0", dir.path() / "out0",
                   with({"--creds", "tester:nope", "--cache-to", "type=registry,ref=" + ref}));
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_TRUE(contains(wrong.output, "cannot export the cache to " + ref)) << wrong.output;
  EXPECT_TRUE(contains(wrong.output, "401")) << wrong.output;
  EXPECT_TRUE(contains(wrong.output, "hint:")) << wrong.output;
  // The build's output is written before the export is tried: a refused push loses nothing.
  EXPECT_TRUE(fs::exists(dir.path() / "out0" / "rootfs.cpio.zst"));

  CommandResult first =
      build_rootfs(dir.path() / "cache1", dir.path() / "out1",
                   with({"--creds", "tester:pw", "--cache-to", "type=registry,ref=" + ref}));
  ASSERT_EQ(first.exit_code, 0) << first.output;
  CommandResult second =
      build_rootfs(dir.path() / "cache2", dir.path() / "out2",
                   with({"--creds", "tester:pw", "--cache-from", "type=registry,ref=" + ref}));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(count(second.output, " CACHED"), 2u) << second.output;
  EXPECT_EQ(bytes(dir.path() / "out2" / "rootfs.cpio.zst"),
            bytes(dir.path() / "out1" / "rootfs.cpio.zst"));
}

TEST(SharedCache, LocalDirectoryRoundTrip) {
  TempDir dir;
  fs::path shared = dir.path() / "shared";
  // Importing from a place that holds no cache yet is a warning, not an error.
  CommandResult first = build_rootfs(dir.path() / "cache1", dir.path() / "out1",
                                     {"--cache-from", "type=local,src=" + shared.string(),
                                      "--cache-to", "type=local,dest=" + shared.string()});
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(contains(first.output, "no shared cache at")) << first.output;
  EXPECT_TRUE(fs::exists(shared / "index.json"));
  CommandResult second = build_rootfs(dir.path() / "cache2", dir.path() / "out2",
                                      {"--cache-from", "type=local,src=" + shared.string()});
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(count(second.output, " CACHED"), 2u) << second.output;
  EXPECT_EQ(bytes(dir.path() / "out2" / "rootfs.cpio.zst"),
            bytes(dir.path() / "out1" / "rootfs.cpio.zst"));
}

TEST(SharedCache, BadFlagsAreUsageErrors) {
  TempDir dir;
  auto run = [&](std::vector<std::string> flags) {
    return build_rootfs(dir.path() / "cache", dir.path() / "out", std::move(flags));
  };
  CommandResult no_ref = run({"--cache-to", "type=registry"});
  EXPECT_EQ(no_ref.exit_code, 2) << no_ref.output;
  EXPECT_TRUE(contains(no_ref.output, "needs ref=HOST/REPO:TAG")) << no_ref.output;
  CommandResult bad_type = run({"--cache-from", "type=s3,ref=x"});
  EXPECT_EQ(bad_type.exit_code, 2) << bad_type.output;
  EXPECT_TRUE(contains(bad_type.output, "type=registry or type=local")) << bad_type.output;
  CommandResult wrong_key = run({"--cache-from", "type=local,dest=/x"});
  EXPECT_EQ(wrong_key.exit_code, 2) << wrong_key.output;
  EXPECT_TRUE(contains(wrong_key.output, "unknown --cache-from key \"dest\"")) << wrong_key.output;
  CommandResult not_cache =
      run({"--cache-from",
           "type=local,src=" + (fixture("busybox") / "layout").string() + ",tag=latest"});
  EXPECT_EQ(not_cache.exit_code, 1) << not_cache.output;
  EXPECT_TRUE(contains(not_cache.output, "is not a c2w cache")) << not_cache.output;
}

TEST(SharedCache, ResultMediaTypes) {
  using c2w::shared_cache::result_media_type;
  EXPECT_EQ(result_media_type("out.wasm"), "application/wasm");
  EXPECT_EQ(result_media_type("rootfs.cpio.zst"), "application/zstd");
  EXPECT_EQ(result_media_type("Image"), "application/octet-stream");
}

TEST(SharedCache, OutputTypeRegistryPushesAnArtifact) {
  c2w::testing::LoopbackRegistry registry;
  TempDir dir;
  std::string ref = registry.host() + "/c2w/rootfs:1";
  CommandResult pushed = c2w_run({"--cache-dir", (dir.path() / "cache").string(),
                                  "--progress=plain", "--insecure-registry", registry.host(),
                                  "--target", "rootfs", "--output", "type=registry,ref=" + ref,
                                  "oci-layout:" + (fixture("busybox") / "layout").string()});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.output;
  EXPECT_TRUE(contains(pushed.output, "pushed rootfs.cpio.zst (application/zstd")) << pushed.output;

  CommandResult raw = c2w::testing::run_command(
      {"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + ref});
  ASSERT_EQ(raw.exit_code, 0) << raw.output;
  if (raw.output.ends_with("\n")) raw.output.pop_back();  // skopeo ends the manifest with one
  // The digest c2w printed is the digest of the manifest the registry serves.
  EXPECT_TRUE(contains(pushed.output, c2w::oci::Sha256::of(raw.output) + "\n")) << pushed.output;
  auto m = nlohmann::json::parse(raw.output);
  EXPECT_EQ(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(m["artifactType"], c2w::shared_cache::kResultArtifactType);
  EXPECT_EQ(m["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
  ASSERT_EQ(m["layers"].size(), 1u);
  EXPECT_EQ(m["layers"][0]["mediaType"], "application/zstd");
  EXPECT_EQ(m["layers"][0]["annotations"]["org.opencontainers.image.title"], "rootfs.cpio.zst");

  // The layer is the initramfs: the same bytes as a local export of the same build.
  CommandResult local =
      c2w_run({"--cache-dir", (dir.path() / "cache").string(), "--target", "rootfs", "--output",
               "type=local,dest=" + (dir.path() / "out").string(),
               "oci-layout:" + (fixture("busybox") / "layout").string()});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  std::string initramfs = bytes(dir.path() / "out" / "rootfs.cpio.zst");
  EXPECT_EQ(m["layers"][0]["digest"], c2w::oci::Sha256::of(initramfs));
  EXPECT_EQ(m["layers"][0]["size"], initramfs.size());

  // A tree result cannot be pushed: a clear error with a hint.
  CommandResult tree = c2w_run({"--cache-dir", (dir.path() / "cache").string(),
                                "--insecure-registry", registry.host(), "--target", "image",
                                "--output", "type=registry,ref=" + registry.host() + "/c2w/x:1",
                                "oci-layout:" + (fixture("busybox") / "layout").string()});
  EXPECT_EQ(tree.exit_code, 1) << tree.output;
  EXPECT_TRUE(contains(tree.output, "directory tree, which cannot be pushed")) << tree.output;
}

// Through c2wd: the image is uploaded, the client downloads the result and pushes it. A
// type=local shared cache with --builder is refused: that directory would be the builder's.
TEST(SharedCache, OutputTypeRegistryThroughTheBuilder) {
  c2w::testing::LoopbackRegistry registry;
  TempDir dir;
  std::string address = "unix://" + (dir.path() / "c2wd.sock").string();
  c2w::testing::BackgroundProcess daemon(
      {C2WD_BINARY_PATH, "--addr", address, "--cache-dir", (dir.path() / "dcache").string()},
      dir.path() / "c2wd.log");
  for (int i = 0; i < 100 && !contains(c2w::testing::slurp(dir.path() / "c2wd.log"), "serving on");
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::string ref = registry.host() + "/c2w/rootfs:remote";
  std::string image = "oci-layout:" + (fixture("busybox") / "layout").string();
  CommandResult pushed =
      c2w_run({"--builder", address, "--cache-dir", (dir.path() / "client").string(),
               "--progress=plain", "--insecure-registry", registry.host(), "--target", "rootfs",
               "--output", "type=registry,ref=" + ref, image});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.output << c2w::testing::slurp(dir.path() / "c2wd.log");
  EXPECT_TRUE(contains(pushed.output, "pushed rootfs.cpio.zst (application/zstd")) << pushed.output;
  CommandResult raw = c2w::testing::run_command(
      {"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + ref});
  ASSERT_EQ(raw.exit_code, 0) << raw.output;
  EXPECT_EQ(nlohmann::json::parse(raw.output)["layers"][0]["mediaType"], "application/zstd");

  CommandResult refused =
      c2w_run({"--builder", address, "--cache-dir", (dir.path() / "client").string(), "--target",
               "rootfs", "--cache-to", "type=local,dest=" + (dir.path() / "c").string(), "--output",
               "type=local,dest=" + (dir.path() / "o").string(), image});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output, "with --builder, the shared cache must be type=registry"))
      << refused.output;
}

}  // namespace
