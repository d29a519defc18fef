#include "emulators/virtio/mmio.h"

#include <utility>

namespace c2w::virtio {
namespace {

constexpr uint32_t kMagic = 0x74726976;   // "virt"
constexpr uint32_t kVendor = 0x20773263;  // "c2w "
constexpr uint64_t kConfigBase = 0x100;

enum Reg : uint64_t {
  kRegMagic = 0x000,
  kRegVersion = 0x004,
  kRegDeviceId = 0x008,
  kRegVendorId = 0x00c,
  kRegDeviceFeatures = 0x010,
  kRegDeviceFeaturesSel = 0x014,
  kRegDriverFeatures = 0x020,
  kRegDriverFeaturesSel = 0x024,
  kRegQueueSel = 0x030,
  kRegQueueNumMax = 0x034,
  kRegQueueNum = 0x038,
  kRegQueueReady = 0x044,
  kRegQueueNotify = 0x050,
  kRegInterruptStatus = 0x060,
  kRegInterruptAck = 0x064,
  kRegStatus = 0x070,
  kRegQueueDescLow = 0x080,
  kRegQueueDescHigh = 0x084,
  kRegQueueDriverLow = 0x090,
  kRegQueueDriverHigh = 0x094,
  kRegQueueDeviceLow = 0x0a0,
  kRegQueueDeviceHigh = 0x0a4,
  kRegShmSel = 0x0ac,
  kRegShmLenLow = 0x0b0,
  kRegShmLenHigh = 0x0b4,
  kRegShmBaseLow = 0x0b8,
  kRegShmBaseHigh = 0x0bc,
  kRegConfigGeneration = 0x0fc,
};

void set_low(uint64_t* v, uint64_t x) {
  *v = (*v & ~uint64_t{0xffffffff}) | (x & 0xffffffff);
}
void set_high(uint64_t* v, uint64_t x) {
  *v = (*v & 0xffffffff) | (x & 0xffffffff) << 32;
}

}  // namespace

MmioTransport::MmioTransport(Device* device, emulators::GuestRam ram, std::function<void(bool)> irq)
    : device_(device), ram_(ram), irq_(std::move(irq)), queues_(device->num_queues()) {
  device_->attach(this);
}

uint64_t MmioTransport::offered_features() const {
  return device_->features() | kFeatureVersion1 | kFeatureIndirectDesc;
}

Virtqueue* MmioTransport::selected() {
  return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

void MmioTransport::reset() {
  for (Virtqueue& q : queues_) q.reset();
  status_ = 0;
  device_features_sel_ = driver_features_sel_ = queue_sel_ = shm_sel_ = 0;
  driver_features_ = 0;
  interrupt_status_ = 0;
  device_->reset();
  update_irq();
}

bool MmioTransport::read(uint64_t offset, unsigned size, uint64_t* value) {
  if (offset >= kConfigBase) {
    const uint64_t off = offset - kConfigBase;
    const uint32_t n = device_->config_size();
    if (off > n || size > n - off) return false;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; ++i)
      v |= uint64_t{device_->config_read(static_cast<uint32_t>(off + i))} << (8 * i);
    *value = v;
    return true;
  }
  if (size != 4 || offset % 4) return false;
  const Virtqueue* q = selected();
  uint64_t v = 0;
  switch (offset) {
    case kRegMagic:
      v = kMagic;
      break;
    case kRegVersion:
      v = 2;
      break;
    case kRegDeviceId:
      v = device_->device_id();
      break;
    case kRegVendorId:
      v = kVendor;
      break;
    case kRegDeviceFeatures:
      v = device_features_sel_ < 2 ? offered_features() >> (32 * device_features_sel_) : 0;
      v &= 0xffffffff;
      break;
    case kRegQueueNumMax:
      v = q ? device_->queue_max_size(queue_sel_) : 0;
      break;
    case kRegQueueNum:
      v = q ? q->size : 0;
      break;
    case kRegQueueReady:
      v = q && q->ready;
      break;
    case kRegInterruptStatus:
      v = interrupt_status_;
      break;
    case kRegStatus:
      v = status_;
      break;
    case kRegQueueDescLow:
      v = q ? q->desc_addr & 0xffffffff : 0;
      break;
    case kRegQueueDescHigh:
      v = q ? q->desc_addr >> 32 : 0;
      break;
    case kRegQueueDriverLow:
      v = q ? q->avail_addr & 0xffffffff : 0;
      break;
    case kRegQueueDriverHigh:
      v = q ? q->avail_addr >> 32 : 0;
      break;
    case kRegQueueDeviceLow:
      v = q ? q->used_addr & 0xffffffff : 0;
      break;
    case kRegQueueDeviceHigh:
      v = q ? q->used_addr >> 32 : 0;
      break;
    case kRegShmLenLow:
    case kRegShmLenHigh:
    case kRegShmBaseLow:
    case kRegShmBaseHigh:
      v = 0xffffffff;  // no shared memory regions: length ~0 tells the driver so
      break;
    case kRegConfigGeneration:
      v = config_generation_;
      break;
    default:
      v = 0;  // write-only and reserved registers read as zero
      break;
  }
  *value = v;
  return true;
}

bool MmioTransport::write(uint64_t offset, unsigned size, uint64_t value) {
  if (offset >= kConfigBase) {
    const uint64_t off = offset - kConfigBase;
    const uint32_t n = device_->config_size();
    if (off > n || size > n - off) return false;
    for (unsigned i = 0; i < size; ++i)
      device_->config_write(static_cast<uint32_t>(off + i), static_cast<uint8_t>(value >> (8 * i)));
    return true;
  }
  if (size != 4 || offset % 4) return false;
  value &= 0xffffffff;
  Virtqueue* q = selected();
  // Queue layout registers are only meaningful while the queue is not live.
  Virtqueue* setup = q && !q->ready ? q : nullptr;
  switch (offset) {
    case kRegDeviceFeaturesSel:
      device_features_sel_ = static_cast<uint32_t>(value);
      break;
    case kRegDriverFeatures:
      if (driver_features_sel_ < 2 && !(status_ & 8)) {  // frozen once FEATURES_OK is set
        const unsigned shift = 32 * driver_features_sel_;
        driver_features_ = (driver_features_ & ~(uint64_t{0xffffffff} << shift)) |
                           (value << shift & offered_features());
      }
      break;
    case kRegDriverFeaturesSel:
      driver_features_sel_ = static_cast<uint32_t>(value);
      break;
    case kRegQueueSel:
      queue_sel_ = static_cast<uint32_t>(value);
      break;
    case kRegQueueNum:
      if (setup && value <= device_->queue_max_size(queue_sel_))
        setup->size = static_cast<uint16_t>(value);
      break;
    case kRegQueueReady:
      if (q) {
        q->ready = value & 1;
        q->indirect_allowed = driver_features_ & kFeatureIndirectDesc;
        if (q->ready) q->broken = false;
      }
      break;
    case kRegQueueNotify:
      if (value < queues_.size() && queues_[value].ready && driver_ok()) {
        device_->queue_notify(static_cast<unsigned>(value));
        if (queues_[value].broken) device_error();
      }
      break;
    case kRegInterruptAck:
      interrupt_status_ &= ~static_cast<uint32_t>(value);
      update_irq();
      break;
    case kRegStatus:
      if (value == 0) {
        reset();
      } else {
        // FEATURES_OK only sticks if VERSION_1 was accepted: we are a modern-only device.
        if ((value & 8) && !(driver_features_ & kFeatureVersion1)) value &= ~uint64_t{8};
        status_ = static_cast<uint32_t>(value) | (status_ & kNeedsReset);
      }
      break;
    case kRegQueueDescLow:
      if (setup) set_low(&setup->desc_addr, value);
      break;
    case kRegQueueDescHigh:
      if (setup) set_high(&setup->desc_addr, value);
      break;
    case kRegQueueDriverLow:
      if (setup) set_low(&setup->avail_addr, value);
      break;
    case kRegQueueDriverHigh:
      if (setup) set_high(&setup->avail_addr, value);
      break;
    case kRegQueueDeviceLow:
      if (setup) set_low(&setup->used_addr, value);
      break;
    case kRegQueueDeviceHigh:
      if (setup) set_high(&setup->used_addr, value);
      break;
    case kRegShmSel:
      shm_sel_ = static_cast<uint32_t>(value);
      break;
    default:
      break;  // read-only and reserved registers ignore writes
  }
  return true;
}

void MmioTransport::poll() {
  if (!driver_ok()) return;
  device_->poll();
  for (const Virtqueue& q : queues_)
    if (q.broken) return device_error();
}

void MmioTransport::notify_used(unsigned i) {
  if (i >= queues_.size() || queues_[i].interrupt_suppressed(ram_)) return;
  interrupt_status_ |= 1;
  update_irq();
}

void MmioTransport::config_changed() {
  ++config_generation_;
  interrupt_status_ |= 2;
  update_irq();
}

void MmioTransport::device_error() {
  if (status_ & kNeedsReset) return;
  status_ |= kNeedsReset;
  config_changed();
}

void MmioTransport::save(emulators::ByteWriter& w) const {
  w.u32(status_);
  w.u32(device_features_sel_);
  w.u32(driver_features_sel_);
  w.u64(driver_features_);
  w.u32(queue_sel_);
  w.u32(interrupt_status_);
  w.u32(config_generation_);
  w.u32(shm_sel_);
  w.u32(static_cast<uint32_t>(queues_.size()));
  for (const Virtqueue& q : queues_) {
    w.u16(q.size);
    w.boolean(q.ready);
    w.u64(q.desc_addr);
    w.u64(q.avail_addr);
    w.u64(q.used_addr);
    w.boolean(q.indirect_allowed);
    w.u16(q.last_avail);
    w.u16(q.next_used);
    w.boolean(q.broken);
  }
  device_->save(w);
}

bool MmioTransport::load(emulators::ByteReader& r) {
  status_ = r.u32();
  device_features_sel_ = r.u32();
  driver_features_sel_ = r.u32();
  driver_features_ = r.u64();
  queue_sel_ = r.u32();
  interrupt_status_ = r.u32();
  config_generation_ = r.u32();
  shm_sel_ = r.u32();
  if (r.u32() != queues_.size()) return false;
  for (Virtqueue& q : queues_) {
    q.size = r.u16();
    q.ready = r.boolean();
    q.desc_addr = r.u64();
    q.avail_addr = r.u64();
    q.used_addr = r.u64();
    q.indirect_allowed = r.boolean();
    q.last_avail = r.u16();
    q.next_used = r.u16();
    q.broken = r.boolean();
  }
  if (!r.ok() || !device_->load(r)) return false;
  update_irq();
  return r.ok();
}

}  // namespace c2w::virtio
