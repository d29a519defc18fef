#include "emulators/common/host.h"

#include <time.h>
#include <unistd.h>

#include <cstdlib>

namespace c2w::emulators {

uint64_t PosixHost::monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

int64_t PosixHost::realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void PosixHost::random(uint8_t* buf, uint32_t len) {
  // getentropy takes at most 256 bytes per call.
  while (len > 0) {
    const uint32_t n = len < 256 ? len : 256;
    if (getentropy(buf, n) != 0) std::abort();  // no entropy source: nothing sane to hand out
    buf += n;
    len -= n;
  }
}

void VirtualHost::random(uint8_t* buf, uint32_t len) {
  // splitmix64: reproducible, not secret. The kernel's pool is reseeded from the real host
  // after restore (virtio-rng), so secrets never come from this.
  for (uint32_t i = 0; i < len; i += 8) {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    for (uint32_t b = 0; b < 8 && i + b < len; ++b) buf[i + b] = static_cast<uint8_t>(z >> (8 * b));
  }
}

}  // namespace c2w::emulators
