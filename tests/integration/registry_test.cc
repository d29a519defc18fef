// The loopback registry helper against the real docker-registry: fixtures pushed with skopeo
// are served back (plain HTTP; TLS with a test CA and htpasswd basic auth), and the registry
// refuses what it must (no credentials, a wrong password, an untrusted certificate).
#include "tests/support/registry.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "oci/layout.h"
#include "oci/sha256.h"

namespace {

using c2w::testing::LoopbackRegistry;

struct Response {
  CURLcode curl = CURLE_OK;
  long status = 0;
  std::string body;
  std::string content_digest;
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t header(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  constexpr std::string_view key = "docker-content-digest:";
  if (line.size() > key.size() && strncasecmp(line.c_str(), key.data(), key.size()) == 0) {
    std::string value = line.substr(key.size());
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n ") + 1);
    static_cast<Response*>(out)->content_digest = value;
  }
  return size * n;
}

Response get(const std::string& url, const std::string& ca = "", const std::string& userpwd = "") {
  Response r;
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr,
                                          "Accept: application/vnd.oci.image.manifest.v1+json, "
                                          "application/vnd.oci.image.index.v1+json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (!ca.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
  if (!userpwd.empty()) curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd.c_str());
  r.curl = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

std::string manifest_digest(const std::string& fixture_name) {
  auto layout = c2w::oci::Layout::open(c2w::testing::fixture(fixture_name) / "layout");
  auto desc = layout.find_tag("latest");
  EXPECT_TRUE(desc.has_value());
  return desc ? (*desc)["digest"].get<std::string>() : "";
}

TEST(LoopbackRegistry, PlainHttpServesPushedImage) {
  LoopbackRegistry registry;
  registry.push(c2w::testing::fixture("busybox") / "layout", "latest", "library/busybox:1.0");
  Response r = get(registry.base_url() + "/v2/library/busybox/manifests/1.0");
  ASSERT_EQ(r.curl, CURLE_OK);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_digest, manifest_digest("busybox"));
  EXPECT_EQ(c2w::oci::Sha256::of(r.body), manifest_digest("busybox"));

  auto manifest = nlohmann::json::parse(r.body);
  std::string layer = manifest["layers"][0]["digest"];
  Response blob = get(registry.base_url() + "/v2/library/busybox/blobs/" + layer);
  ASSERT_EQ(blob.status, 200);
  EXPECT_EQ(c2w::oci::Sha256::of(blob.body), layer);

  EXPECT_EQ(get(registry.base_url() + "/v2/library/busybox/manifests/nope").status, 404);
}

TEST(LoopbackRegistry, MultiArchIndexKeepsBothPlatforms) {
  LoopbackRegistry registry;
  registry.push(c2w::testing::fixture("multiarch") / "layout", "latest", "multi:latest");
  Response r = get(registry.base_url() + "/v2/multi/manifests/latest");
  ASSERT_EQ(r.status, 200) << r.body;
  auto index = nlohmann::json::parse(r.body);
  ASSERT_EQ(index["mediaType"], c2w::oci::media_type::kImageIndex);
  std::set<std::string> arches;
  for (auto& m : index["manifests"]) arches.insert(m["platform"]["architecture"]);
  EXPECT_EQ(arches, (std::set<std::string>{"amd64", "riscv64"}));
}

TEST(LoopbackRegistry, TlsWithBasicAuth) {
  LoopbackRegistry registry({.tls = true, .user = "tester", .password = "s3cret"});
  registry.push(c2w::testing::fixture("hello") / "layout", "latest", "hello:latest");
  std::string url = registry.base_url() + "/v2/hello/manifests/latest";
  std::string ca = registry.ca_certificate().string();

  Response ok = get(url, ca, "tester:s3cret");
  ASSERT_EQ(ok.curl, CURLE_OK);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.content_digest, manifest_digest("hello"));

  EXPECT_EQ(get(url, ca).status, 401);
  EXPECT_EQ(get(url, ca, "tester:wrong").status, 401);
  // Without the test CA the certificate is not trusted.
  Response untrusted = get(url, "/etc/ssl/certs/ca-certificates.crt", "tester:s3cret");
  EXPECT_NE(untrusted.curl, CURLE_OK);
}

}  // namespace
