#include "emulators/virtio/rng.h"

namespace c2w::virtio {

void Rng::queue_notify(unsigned q) {
  if (q != 0) return;
  const emulators::GuestRam& ram = transport_->ram();
  Virtqueue& vq = transport_->queue(0);
  uint8_t buf[kMaxChunk];
  bool used = false;
  while (vq.pop(ram, &chain_) == Virtqueue::Pop::kChain) {
    const uint32_t n =
        chain_.writable_len < kMaxChunk ? static_cast<uint32_t>(chain_.writable_len) : kMaxChunk;
    source_(buf, n);
    const auto written = static_cast<uint32_t>(chain_.write(ram, 0, buf, n));
    vq.push(ram, chain_.head, written);
    used = true;
  }
  if (used) transport_->notify_used(0);
}

}  // namespace c2w::virtio
