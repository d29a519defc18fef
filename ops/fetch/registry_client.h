// An OCI distribution client on libcurl: manifests and blobs from one repository, with the
// anonymous and bearer-token flows (a 401 with `WWW-Authenticate: Bearer realm=...` leads to
// a token request), basic auth, TLS with the system CAs plus an extra CA, plain HTTP for
// hosts named insecure, the usual *_proxy variables, retries with backoff, and resumed blob
// downloads (Range). Every failure is a c2w::Error naming the host, the repository and what
// to do; cancellation (the callback returns true) ends the transfer with c2w::Cancelled.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "cache/store.h"
#include "oci/reference.h"

namespace c2w::fetch {

struct RegistryOptions {
  std::set<std::string> insecure_hosts;            // use http:// for these "host[:port]"
  std::string ca_file;                             // trusted in addition to the system CAs
  std::map<std::string, std::string> credentials;  // "host[:port]" -> "user:password"
  int attempts = 5;                                // per request, for transient failures
};

// Reads `auths` of a Docker config file ($DOCKER_CONFIG/config.json or ~/.docker/config.json)
// into host -> "user:password"; a missing file gives an empty map.
std::map<std::string, std::string> docker_config_credentials();

struct FetchedManifest {
  std::string bytes;
  std::string media_type;
  std::string digest;  // sha256 of bytes, checked against the requested digest if any
};

class RegistryClient {
 public:
  using CancelFn = std::function<bool()>;
  using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

  RegistryClient(oci::Reference ref, RegistryOptions options, CancelFn cancelled);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  // `tag_or_digest` as in /v2/<repo>/manifests/<tag_or_digest>.
  FetchedManifest get_manifest(const std::string& tag_or_digest);
  // Downloads a blob into `writer` (resuming at writer.offset()) and commits it after the
  // sha256 check. Returns the committed digest.
  std::string get_blob(const std::string& digest, uint64_t size, cache::BlobWriter& writer,
                       const ProgressFn& progress);

 private:
  struct Response;
  Response perform(const std::string& url, const std::vector<std::string>& headers,
                   cache::BlobWriter* sink, uint64_t range_from, const ProgressFn& progress);
  Response perform_with_auth(const std::string& url, const std::vector<std::string>& headers,
                             cache::BlobWriter* sink, const ProgressFn& progress);
  void authenticate(const std::string& challenge);
  std::string base_url() const;
  std::string where() const;

  oci::Reference ref_;
  RegistryOptions options_;
  CancelFn cancelled_;
  std::string authorization_;  // current "Authorization: ..." header, empty when anonymous
  std::string ca_bundle_;      // system CAs + the extra CA, when one is given
};

}  // namespace c2w::fetch
