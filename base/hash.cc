#include "base/hash.h"

#include <xxhash.h>

#include <cstdint>

namespace c2w {

namespace {

std::string format(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "xxh3:";
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

std::string xxh3_key(const std::vector<std::string_view>& parts) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  for (std::string_view p : parts) {
    uint64_t len = p.size();
    unsigned char le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(len >> (8 * i));
    XXH3_128bits_update(state, le, sizeof le);
    XXH3_128bits_update(state, p.data(), p.size());
  }
  std::string out = format(XXH3_128bits_digest(state));
  XXH3_freeState(state);
  return out;
}

}  // namespace c2w
