#include "emulators/riscv64/goldfish_rtc.h"

namespace c2w::riscv64 {
namespace {

enum Reg : uint64_t {
  kTimeLow = 0x00,
  kTimeHigh = 0x04,
  kAlarmLow = 0x08,
  kAlarmHigh = 0x0c,
  kIrqEnabled = 0x10,
  kClearAlarm = 0x14,
  kAlarmStatus = 0x18,
  kClearInterrupt = 0x1c,
};

}  // namespace

bool GoldfishRtc::read(uint64_t offset, unsigned size, uint64_t* value) {
  if (size != 4 || offset % 4) return false;
  uint64_t v = 0;
  switch (offset) {
    case kTimeLow: {
      const auto t = static_cast<uint64_t>(now());
      time_high_latch_ = static_cast<uint32_t>(t >> 32);
      v = t & 0xffffffff;
      break;
    }
    case kTimeHigh:
      v = time_high_latch_;
      break;
    case kAlarmLow:
      v = alarm_ & 0xffffffff;
      break;
    case kAlarmHigh:
      v = alarm_ >> 32;
      break;
    case kIrqEnabled:
      v = irq_enabled_;
      break;
    case kAlarmStatus:
      v = alarm_armed_;
      break;
    default:
      break;
  }
  *value = v;
  return true;
}

bool GoldfishRtc::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4 || offset % 4) return false;
  const auto v = static_cast<uint32_t>(value);
  switch (offset) {
    case kTimeHigh:
      write_high_latch_ = v;
      break;
    case kTimeLow: {
      const int64_t t = static_cast<int64_t>(uint64_t{write_high_latch_} << 32 | v);
      offset_ = t - host_.realtime_ns();
      break;
    }
    case kAlarmHigh:
      alarm_high_latch_ = v;
      break;
    case kAlarmLow:
      alarm_ = uint64_t{alarm_high_latch_} << 32 | v;
      alarm_armed_ = true;
      poll();
      break;
    case kIrqEnabled:
      irq_enabled_ = v & 1;
      update_irq();
      break;
    case kClearAlarm:
      alarm_armed_ = false;
      break;
    case kClearInterrupt:
      irq_pending_ = false;
      update_irq();
      break;
    default:
      break;
  }
  return true;
}

void GoldfishRtc::poll() {
  if (alarm_armed_ && now() >= static_cast<int64_t>(alarm_)) {
    alarm_armed_ = false;
    irq_pending_ = true;
    update_irq();
  }
}

uint64_t GoldfishRtc::alarm_deadline_ns() {
  if (!alarm_armed_) return UINT64_MAX;
  const int64_t left = static_cast<int64_t>(alarm_) - now();
  return host_.monotonic_ns() + (left > 0 ? static_cast<uint64_t>(left) : 0);
}

void GoldfishRtc::save(emulators::ByteWriter& w) const {
  w.u64(static_cast<uint64_t>(offset_));
  w.u32(time_high_latch_);
  w.u32(write_high_latch_);
  w.u32(alarm_high_latch_);
  w.u64(alarm_);
  w.boolean(alarm_armed_);
  w.boolean(irq_enabled_);
  w.boolean(irq_pending_);
}

bool GoldfishRtc::load(emulators::ByteReader& r) {
  offset_ = static_cast<int64_t>(r.u64());
  time_high_latch_ = r.u32();
  write_high_latch_ = r.u32();
  alarm_high_latch_ = r.u32();
  alarm_ = r.u64();
  alarm_armed_ = r.boolean();
  irq_enabled_ = r.boolean();
  irq_pending_ = r.boolean();
  if (r.ok()) update_irq();
  return r.ok();
}

}  // namespace c2w::riscv64
