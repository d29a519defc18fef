// Streaming SHA-256 (OpenSSL) producing OCI digests ("sha256:<64 hex>").
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace c2w::oci {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // "sha256:<hex>"; the hasher cannot be updated afterwards.
  std::string digest();

  static std::string of(std::string_view data);
  static std::string of_file(const std::filesystem::path& path);

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

// True for "sha256:" followed by exactly 64 lowercase hex digits.
bool is_sha256_digest(std::string_view digest);

}  // namespace c2w::oci
