// An OCI distribution client on libcurl: manifests and blobs from one repository, with the
// anonymous and bearer-token flows (a 401 with `WWW-Authenticate: Bearer realm=...` leads to
// a token request), basic auth, TLS with the system CAs plus an extra CA, plain HTTP for
// hosts named insecure, the usual *_proxy variables, retries with backoff, and resumed blob
// downloads (Range), and pushes (blob uploads, manifests) for shared caches and artifacts.
// Every failure is a c2w::Error naming the host, the repository and what
// to do; cancellation (the callback returns true) ends the transfer with c2w::Cancelled.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "cache/store.h"
#include "oci/reference.h"

namespace c2w::distribution {

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

  // ---- push (the credentials need push rights on the repository) ----
  // True when the registry already holds the blob (HEAD /v2/<repo>/blobs/<digest>).
  bool has_blob(const std::string& digest);
  // Uploads the file `path`, whose sha256 is `digest`, in one request (POST, then PUT);
  // nothing is sent when the registry already has it.
  void put_blob(const std::string& digest, const std::string& path);
  // Puts a manifest under `tag` and returns its digest (the registry's answer is checked).
  std::string put_manifest(const std::string& tag, const std::string& bytes,
                           const std::string& media_type);

 private:
  struct Response;
  // What a request sends besides GET: a method and a body (a string or a file), if any.
  struct Send {
    std::string method;  // "HEAD", "POST", "PUT"
    std::string body;
    std::string file;  // uploaded from this path instead of `body` when set
  };
  Response perform(const std::string& url, const std::vector<std::string>& headers,
                   cache::BlobWriter* sink, uint64_t range_from, const ProgressFn& progress,
                   const Send* send = nullptr);
  Response perform_with_auth(const std::string& url, const std::vector<std::string>& headers,
                             cache::BlobWriter* sink, const ProgressFn& progress,
                             const Send* send = nullptr);
  // The host part of URLs, for resolving a relative Location header.
  std::string origin() const;
  void authenticate(const std::string& challenge);
  std::string base_url() const;
  std::string where() const;

  oci::Reference ref_;
  RegistryOptions options_;
  CancelFn cancelled_;
  std::string authorization_;  // current "Authorization: ..." header, empty when anonymous
  std::string ca_bundle_;      // system CAs + the extra CA, when one is given
};

}  // namespace c2w::distribution
