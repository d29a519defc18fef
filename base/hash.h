// XXH3-128 for internal keys (cache keys, op digests, tree ids): "xxh3:<32 hex>", the hash
// in xxhash's canonical byte order (high 64 bits first).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace c2w {

// What every xxh3 digest starts with; graph::is_digest checks the whole form.
inline constexpr std::string_view kXxh3Prefix = "xxh3:";

std::string xxh3_digest(std::string_view data);

// Incremental xxh3_digest(): the same bytes in any split give the digest of their concatenation.
class Xxh3Hasher {
 public:
  Xxh3Hasher();
  ~Xxh3Hasher();
  Xxh3Hasher(const Xxh3Hasher&) = delete;
  Xxh3Hasher& operator=(const Xxh3Hasher&) = delete;
  void update(std::string_view bytes);
  std::string finish() const;  // "xxh3:<hex>" of everything fed so far

 private:
  void* state_;  // XXH3_state_t, opaque so users need not include xxhash.h
};

// A key from parts: each part is length-prefixed, so ("ab","c") and ("a","bc") differ.
std::string xxh3_key(const std::vector<std::string_view>& parts);

}  // namespace c2w
