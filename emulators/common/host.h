// What an emulated machine needs from the process it runs in: clocks and entropy. The machine
// never reads host time or randomness any other way, so tests substitute a deterministic Host
// and the wasm32 build uses the same POSIX code through wasi-libc.
#pragma once

#include <cstdint>

namespace c2w::emulators {

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

// A host whose clock is a function of the guest's progress, for reproducible runs (the boot
// snapshot): time advances kNsPerInstruction per retired instruction plus whatever the embedder
// skips with advance_to() while the guest is idle; wall time starts at a fixed epoch; entropy
// is a fixed-seed generator. Two runs of the same machine with the same slices are identical.
class VirtualHost : public Host {
 public:
  static constexpr uint64_t kNsPerInstruction = 10;  // a 100 MIPS guest
  VirtualHost(int64_t epoch_ns, uint64_t seed) : epoch_ns_(epoch_ns), state_(seed) {}
  // The retired-instruction counter time follows (e.g. &machine->cpu().cycle).
  void follow(const uint64_t* instructions) {
    skipped_ = monotonic_ns();
    base_ = *instructions;
    instructions_ = instructions;
  }
  // Moves the clock forward to `ns` (an idle guest's next timer) if it is in the future.
  void advance_to(uint64_t ns) {
    const uint64_t now = monotonic_ns();
    if (ns > now && ns != UINT64_MAX) skipped_ += ns - now;
  }
  uint64_t monotonic_ns() override {
    return skipped_ + (instructions_ ? (*instructions_ - base_) * kNsPerInstruction : 0);
  }
  int64_t realtime_ns() override { return epoch_ns_ + static_cast<int64_t>(monotonic_ns()); }
  void random(uint8_t* buf, uint32_t len) override;

 private:
  int64_t epoch_ns_;
  uint64_t state_;
  uint64_t skipped_ = 0;
  uint64_t base_ = 0;
  const uint64_t* instructions_ = nullptr;
};

}  // namespace c2w::emulators
