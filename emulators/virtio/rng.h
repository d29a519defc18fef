// virtio entropy device (device id 4, virtio spec 1.2 section 5.4): fills each device-writable
// buffer the guest offers with host randomness, at most kMaxChunk bytes per buffer.
#pragma once

#include <functional>

#include "emulators/virtio/device.h"

namespace c2w::virtio {

class Rng : public Device {
 public:
  static constexpr uint32_t kMaxChunk = 4096;
  using Source = std::function<void(uint8_t* buf, uint32_t len)>;
  explicit Rng(Source source) : source_(std::move(source)) {}

  uint32_t device_id() const override { return 4; }
  uint64_t features() const override { return 0; }
  unsigned num_queues() const override { return 1; }
  void reset() override {}
  void queue_notify(unsigned q) override;
  void save(emulators::ByteWriter&) const override {}
  bool load(emulators::ByteReader&) override { return true; }

 private:
  Source source_;
  Chain chain_;
};

}  // namespace c2w::virtio
