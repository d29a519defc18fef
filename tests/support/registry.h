// A real OCI registry for tests: Debian's docker-registry (CNCF Distribution) started on
// 127.0.0.1 at a free port with its own storage dir, optionally with TLS (a self-signed
// certificate made for the test) and htpasswd basic auth. Images are pushed with skopeo.
// The process is stopped and its files removed when the object goes away.
#pragma once

#include <filesystem>
#include <string>

#include "tests/support/process.h"

namespace c2w::testing {

class LoopbackRegistry {
 public:
  struct Options {
    bool tls = false;
    std::string user;  // basic auth when set (requires tls)
    std::string password;
  };

  explicit LoopbackRegistry(Options options);
  LoopbackRegistry() : LoopbackRegistry(Options{}) {}
  LoopbackRegistry(const LoopbackRegistry&) = delete;
  LoopbackRegistry& operator=(const LoopbackRegistry&) = delete;

  // "127.0.0.1:PORT"
  const std::string& host() const { return host_; }
  // "http://127.0.0.1:PORT" or "https://..."
  std::string base_url() const { return (options_.tls ? "https://" : "http://") + host_; }
  // The CA certificate clients must trust (tls only).
  std::filesystem::path ca_certificate() const { return dir_.path() / "trust" / "ca.crt"; }
  // Copies `oci:LAYOUT:TAG` to `HOST/REPO_AND_TAG`, e.g. push(layout, "latest", "busybox:1").
  void push(const std::filesystem::path& layout, const std::string& tag,
            const std::string& repo_and_tag);
  std::filesystem::path log_file() const { return dir_.path() / "registry.log"; }
  // Where the registry keeps blobs: storage_dir()/docker/registry/v2/blobs/sha256/<2>/<hex>/data
  // (tests corrupt them there).
  std::filesystem::path storage_dir() const { return dir_.path() / "storage"; }

 private:
  void make_certificate();
  void wait_until_ready();

  Options options_;
  TempDir dir_;
  std::string host_;
  BackgroundProcess process_;
};

// Writes DIR/server.crt and DIR/server.key: a self-signed certificate for 127.0.0.1 that
// clients trust as its own CA.
void make_self_signed_certificate(const std::filesystem::path& dir);

// The fixture images made by tests/fixtures/make-fixtures ($C2W_FIXTURES/<name>).
std::filesystem::path fixture(const std::string& name);

}  // namespace c2w::testing
