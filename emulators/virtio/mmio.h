// The virtio-mmio transport, version 2 (virtio spec 1.2, section 4.2.2), wrapping one Device.
// It owns the device's virtqueues and the register file; the machine maps it on its bus and
// routes read()/write() to it, and gives it an interrupt line.
//
// Registers outside the config space accept only aligned 32-bit accesses; anything else
// (and any offset beyond the window) is refused, which the CPU turns into an access fault.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "emulators/virtio/device.h"

namespace c2w::virtio {

class MmioTransport : public Transport {
 public:
  static constexpr uint64_t kWindowSize = 0x1000;

  // `irq` is called with the level of the interrupt line whenever it may have changed.
  MmioTransport(Device* device, emulators::GuestRam ram, std::function<void(bool)> irq);

  bool read(uint64_t offset, unsigned size, uint64_t* value);
  bool write(uint64_t offset, unsigned size, uint64_t value);

  // Lets the device move host-side data (call when input arrives or once per run slice).
  void poll();

  Device* device() const { return device_; }
  uint32_t status() const { return status_; }

  // Transport state (register file and queues), then the device's own state.
  void save(emulators::ByteWriter& w) const;
  bool load(emulators::ByteReader& r);

  // Transport interface for the device.
  const emulators::GuestRam& ram() const override { return ram_; }
  Virtqueue& queue(unsigned i) override { return queues_[i]; }
  uint64_t driver_features() const override { return driver_features_; }
  bool driver_ok() const override {
    return (status_ & kStatusDriverOk) && !(status_ & kNeedsReset);
  }
  void notify_used(unsigned i) override;
  void config_changed() override;
  void device_error() override;

 private:
  static constexpr uint32_t kStatusDriverOk = 4, kNeedsReset = 0x40;
  void reset();
  void update_irq() { irq_(interrupt_status_ != 0); }
  Virtqueue* selected();
  uint64_t offered_features() const;

  Device* device_;
  emulators::GuestRam ram_;
  std::function<void(bool)> irq_;
  std::vector<Virtqueue> queues_;

  uint32_t status_ = 0;
  uint32_t device_features_sel_ = 0;
  uint32_t driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t interrupt_status_ = 0;
  uint32_t config_generation_ = 0;
  uint32_t shm_sel_ = 0;
};

}  // namespace c2w::virtio
