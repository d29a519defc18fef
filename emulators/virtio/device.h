// The slot a virtio device plugs into. A device (console, rng, later 9p, block, net) knows
// nothing about the bus: the transport hands it its queues, guest RAM and the ways to signal
// the driver, and calls it when the driver kicks a queue or the host has new input.
//
// A device may complete a request later than the notify that brought it (e.g. a 9p server
// waiting for host I/O): keep the chain's head and push it to the queue when done, then call
// notify_used(). Devices must save in save() whatever they hold across calls (including held
// chain heads) so a restored machine continues exactly.
#pragma once

#include <cstdint>

#include "emulators/common/byte_io.h"
#include "emulators/common/guest_ram.h"
#include "emulators/virtio/virtqueue.h"

namespace c2w::virtio {

// Feature bits the transport itself offers (virtio spec 1.2, section 6).
inline constexpr uint64_t kFeatureIndirectDesc = uint64_t{1} << 28;
inline constexpr uint64_t kFeatureVersion1 = uint64_t{1} << 32;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual const emulators::GuestRam& ram() const = 0;
  // Queue i (i < the device's num_queues()).
  virtual Virtqueue& queue(unsigned i) = 0;
  virtual uint64_t driver_features() const = 0;
  // Whether the driver has set DRIVER_OK (and not reset since).
  virtual bool driver_ok() const = 0;
  // Signals used buffers on queue i (an interrupt unless the driver suppressed it).
  virtual void notify_used(unsigned i) = 0;
  // The device configuration space changed.
  virtual void config_changed() = 0;
  // The guest broke the protocol: set DEVICE_NEEDS_RESET and tell the driver.
  virtual void device_error() = 0;
};

class Device {
 public:
  virtual ~Device() = default;

  virtual uint32_t device_id() const = 0;
  // Device-specific feature bits (the transport adds VERSION_1 and INDIRECT_DESC).
  virtual uint64_t features() const = 0;
  virtual unsigned num_queues() const = 0;
  virtual uint16_t queue_max_size(unsigned /*queue*/) const { return 256; }

  // Device configuration space, accessed byte by byte at offsets below config_size().
  virtual uint32_t config_size() const { return 0; }
  virtual uint8_t config_read(uint32_t /*offset*/) { return 0; }
  virtual void config_write(uint32_t /*offset*/, uint8_t /*value*/) {}

  // The driver reset the device (status 0): forget all driver-visible state.
  virtual void reset() = 0;
  // The driver made buffers available on queue q.
  virtual void queue_notify(unsigned q) = 0;
  // The host side may have made progress (input arrived, output drained): move what can move.
  virtual void poll() {}

  // Device state beyond the transport's (which saves the queues), field by field.
  virtual void save(emulators::ByteWriter& w) const = 0;
  virtual bool load(emulators::ByteReader& r) = 0;

  void attach(Transport* t) { transport_ = t; }

 protected:
  Transport* transport_ = nullptr;
};

}  // namespace c2w::virtio
