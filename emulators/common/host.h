// What an emulated machine needs from the process it runs in: clocks and entropy. The machine
// never reads host time or randomness any other way, so tests substitute a deterministic Host
// and the wasm32 build uses the same POSIX code through wasi-libc.
#pragma once

#include <cstdint>

namespace c2w::emu {

class Host {
 public:
  virtual ~Host() = default;
  // A monotonic clock in nanoseconds (any origin); guest timers follow it.
  virtual uint64_t monotonic_ns() = 0;
  // Wall-clock time in nanoseconds since the Unix epoch (for the guest's RTC).
  virtual int64_t realtime_ns() = 0;
  // Fills buf with random bytes (for virtio-rng).
  virtual void random(uint8_t* buf, uint32_t len) = 0;
};

// clock_gettime and getentropy; works natively and on wasm32-wasi.
class PosixHost : public Host {
 public:
  uint64_t monotonic_ns() override;
  int64_t realtime_ns() override;
  void random(uint8_t* buf, uint32_t len) override;
};

}  // namespace c2w::emu
