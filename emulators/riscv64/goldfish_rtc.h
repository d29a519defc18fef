// Goldfish RTC ("google,goldfish-rtc", as on qemu's virt board): the guest reads host wall-clock
// time in nanoseconds since the epoch, may set its own time (kept as an offset to the host's)
// and may arm a one-shot alarm interrupt.
//
// Register pairs follow the goldfish protocol: reading TIME_LOW latches TIME_HIGH; writing
// the HIGH half of a pair latches it until the LOW half is written.
#pragma once

#include <cstdint>
#include <functional>

#include "emulators/common/byte_io.h"
#include "emulators/common/host.h"
#include "emulators/riscv64/bus.h"

namespace c2w::riscv64 {

class GoldfishRtc : public Device {
 public:
  static constexpr uint64_t kWindowSize = 0x1000;

  GoldfishRtc(emulators::Host& host, std::function<void(bool)> irq)
      : host_(host), irq_(std::move(irq)) {}

  bool read(uint64_t offset, unsigned size, uint64_t* value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

  // Fires the alarm if its time has come; call from the run loop.
  void poll();
  // Host monotonic time at which the alarm fires, or UINT64_MAX if none is armed.
  uint64_t alarm_deadline_ns();

  void save(emulators::ByteWriter& w) const;
  bool load(emulators::ByteReader& r);

 private:
  int64_t now() { return host_.realtime_ns() + offset_; }
  void update_irq() { irq_(irq_pending_ && irq_enabled_); }

  emulators::Host& host_;
  std::function<void(bool)> irq_;
  int64_t offset_ = 0;  // guest time - host time, set when the guest writes the time
  uint32_t time_high_latch_ = 0;
  uint32_t write_high_latch_ = 0;
  uint32_t alarm_high_latch_ = 0;
  uint64_t alarm_ = 0;
  bool alarm_armed_ = false;
  bool irq_enabled_ = false;
  bool irq_pending_ = false;
};

}  // namespace c2w::riscv64
