// The fetch op's image sources against real components: docker-registry on loopback (plain
// HTTP; TLS + basic auth), OCI layouts and docker-save archives from the fixtures. Every blob
// ends up in the store verified; errors (404, 401, tampering, wrong platform) are clear.
#include <gtest/gtest.h>

#include <fstream>

#include "base/error.h"
#include "cache/store.h"
#include "distribution/image_source.h"
#include "oci/layout.h"
#include "tests/support/registry.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w::distribution;
using c2w::oci::parse_reference;
using c2w::testing::fixture;
using c2w::testing::LoopbackRegistry;
using c2w::testing::TempDir;

std::string manifest_digest(const std::string& name, const std::string& tag = "latest") {
  auto layout = c2w::oci::Layout::open(fixture(name) / "layout");
  return (*layout.find_tag(tag))["digest"];
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const c2w::Error& e) {
    return std::string(e.what()) + " | " + e.hint();
  }
  return "(no error)";
}

Image fetch(const std::string& ref, c2w::cache::Store& store, RegistryOptions opts = {},
            const std::string& platform = "linux/riscv64") {
  return fetch_image(parse_reference(ref), Platform::parse(platform), opts, store, {});
}

TEST(Fetch, PlainRegistryThenCachedAndSameContentUnderAnotherTag) {
  LoopbackRegistry registry;
  registry.push(fixture("busybox") / "layout", "latest", "library/busybox:1.0");
  registry.push(fixture("busybox") / "layout", "latest", "library/busybox:other");
  TempDir cache;
  c2w::cache::Store store(cache.path());
  RegistryOptions opts;
  opts.insecure_hosts.insert(registry.host());
  Image a = fetch(registry.host() + "/library/busybox:1.0", store, opts);
  EXPECT_TRUE(a.downloaded);
  EXPECT_EQ(a.manifest, manifest_digest("busybox"));
  ASSERT_EQ(a.layers.size(), 1u);
  EXPECT_TRUE(store.blob(a.layers[0]["digest"].get<std::string>()));
  Image b = fetch(registry.host() + "/library/busybox:other", store, opts);
  EXPECT_FALSE(b.downloaded) << "every blob was already in the store";
  EXPECT_EQ(b.manifest, a.manifest);

  EXPECT_NE(error_of([&] {
              fetch(registry.host() + "/library/busybox:nope", store, opts);
            }).find("not found"),
            std::string::npos);
  // Without --insecure-registry the client speaks TLS to a plain-HTTP registry and says so.
  EXPECT_NE(error_of([&] {
              fetch(registry.host() + "/library/busybox:1.0", store);
            }).find("--insecure-registry"),
            std::string::npos);
}

TEST(Fetch, MultiArchIndexResolvesToPlatform) {
  LoopbackRegistry registry;
  registry.push(fixture("multiarch") / "layout", "latest", "multi:latest");
  TempDir cache;
  c2w::cache::Store store(cache.path());
  RegistryOptions opts;
  opts.insecure_hosts.insert(registry.host());
  Image img = fetch(registry.host() + "/multi:latest", store, opts);
  EXPECT_EQ(img.manifest, manifest_digest("multiarch", "riscv64"));
  Image amd = fetch(registry.host() + "/multi:latest", store, opts, "linux/amd64");
  EXPECT_EQ(amd.manifest, manifest_digest("multiarch", "amd64"));
  std::string err =
      error_of([&] { fetch(registry.host() + "/multi:latest", store, opts, "linux/arm64"); });
  EXPECT_NE(err.find("linux/amd64, linux/riscv64"), std::string::npos) << err;
}

TEST(Fetch, TlsWithBasicAuth) {
  LoopbackRegistry registry({.tls = true, .user = "u", .password = "p"});
  registry.push(fixture("hello") / "layout", "latest", "hello:1");
  TempDir cache;
  c2w::cache::Store store(cache.path());
  RegistryOptions opts;
  opts.ca_file = registry.ca_certificate();
  opts.credentials[registry.host()] = "u:p";
  Image img = fetch(registry.host() + "/hello:1", store, opts);
  EXPECT_EQ(img.manifest, manifest_digest("hello"));

  RegistryOptions anonymous = opts;
  anonymous.credentials.clear();
  EXPECT_NE(error_of([&] {
              fetch(registry.host() + "/hello:1", store, anonymous);
            }).find("requires a login"),
            std::string::npos);
  RegistryOptions wrong = opts;
  wrong.credentials[registry.host()] = "u:wrong";
  EXPECT_NE(error_of([&] { fetch(registry.host() + "/hello:1", store, wrong); }).find("401"),
            std::string::npos);
  RegistryOptions untrusted = opts;
  untrusted.ca_file.clear();
  EXPECT_NE(error_of([&] {
              fetch(registry.host() + "/hello:1", store, untrusted);
            }).find("--registry-ca"),
            std::string::npos);
}

TEST(Fetch, TamperedBlobIsRejectedAndNotKept) {
  LoopbackRegistry registry;
  registry.push(fixture("busybox") / "layout", "latest", "bb:1");
  // Corrupt the layer inside the registry's own storage.
  auto layout = c2w::oci::Layout::open(fixture("busybox") / "layout");
  auto manifest = layout.read_json_blob(manifest_digest("busybox"));
  std::string layer = manifest["layers"][0]["digest"];
  fs::path data;
  for (auto& e : fs::recursive_directory_iterator(registry.log_file().parent_path() / "storage"))
    if (e.path().filename() == "data" && e.path().parent_path().filename() == layer.substr(7))
      data = e.path();
  ASSERT_FALSE(data.empty());
  {
    std::fstream f(data, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x55');
  }
  TempDir cache;
  c2w::cache::Store store(cache.path());
  RegistryOptions opts;
  opts.insecure_hosts.insert(registry.host());
  std::string err = error_of([&] { fetch(registry.host() + "/bb:1", store, opts); });
  EXPECT_NE(err.find("does not match its digest"), std::string::npos) << err;
  EXPECT_FALSE(store.blob(layer));
}

TEST(Fetch, OciLayoutAndDockerArchive) {
  TempDir cache;
  c2w::cache::Store store(cache.path());
  Image from_layout =
      fetch("oci-layout:" + (fixture("debian") / "layout").string() + ":latest", store);
  EXPECT_EQ(from_layout.manifest, manifest_digest("debian"));
  EXPECT_EQ(from_layout.layers.size(), 3u);
  for (auto& l : from_layout.layers) EXPECT_TRUE(store.blob(l["digest"].get<std::string>()));

  Image from_archive =
      fetch("docker-archive:" + (fixture("busybox") / "busybox.tar").string(), store);
  ASSERT_EQ(from_archive.layers.size(), 1u);
  auto config = nlohmann::json::parse(store.read_blob(from_archive.config));
  EXPECT_EQ(config["architecture"], "riscv64");
  EXPECT_EQ(config["config"]["Cmd"][0], "sh");
  Image again = fetch("docker-archive:" + (fixture("busybox") / "busybox.tar").string(), store);
  EXPECT_EQ(again.manifest, from_archive.manifest) << "the synthesized manifest is deterministic";

  EXPECT_NE(
      error_of([&] { fetch("oci-layout:/nonexistent", store); }).find("not an OCI image layout"),
      std::string::npos);
  EXPECT_NE(error_of([&] {
              fetch("oci-layout:" + (fixture("busybox") / "layout").string() + ":nope", store);
            }).find("no image tagged"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              fetch("oci-layout:" + (fixture("multiarch") / "layout").string() + ":amd64", store);
            }).find("is for linux/amd64"),
            std::string::npos);
}

}  // namespace
