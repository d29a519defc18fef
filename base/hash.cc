#include "base/hash.h"

#include <xxhash.h>

#include <cstdint>

namespace c2w {

namespace {

std::string format(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out(kXxh3Prefix);
  for (unsigned char b : c.digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace

std::string xxh3_digest(std::string_view data) {
  return format(XXH3_128bits(data.data(), data.size()));
}

Xxh3Hasher::Xxh3Hasher() : state_(XXH3_createState()) {
  XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_));
}

Xxh3Hasher::~Xxh3Hasher() {
  XXH3_freeState(static_cast<XXH3_state_t*>(state_));
}

void Xxh3Hasher::update(std::string_view bytes) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), bytes.data(), bytes.size());
}

std::string Xxh3Hasher::finish() const {
  return format(XXH3_128bits_digest(static_cast<const XXH3_state_t*>(state_)));
}

std::string xxh3_key(const std::vector<std::string_view>& parts) {
  Xxh3Hasher h;
  for (std::string_view p : parts) {
    uint64_t len = p.size();
    char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<char>(len >> (8 * i));
    h.update(std::string_view(le, sizeof le));
    h.update(p);
  }
  return h.finish();
}

}  // namespace c2w
