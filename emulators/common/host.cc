#include "emulators/common/host.h"

#include <time.h>
#include <unistd.h>

#include <cstdlib>

namespace c2w::emu {

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

}  // namespace c2w::emu
