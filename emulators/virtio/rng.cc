#include "emulators/virtio/rng.h"

namespace c2w::virtio {

void Rng::queue_notify(unsigned q) {
  if (q != 0) return;
  const emulators::GuestRam& ram = transport_->ram();
  uint8_t buf[kMaxChunk];
  auto fill = [&](const Chain& c) {
    const uint32_t n =
        c.writable_len < kMaxChunk ? static_cast<uint32_t>(c.writable_len) : kMaxChunk;
    source_(buf, n);
    return static_cast<uint32_t>(c.write(ram, 0, buf, n));
  };
  if (transport_->queue(0).serve_all(ram, &chain_, fill)) transport_->notify_used(0);
}

}  // namespace c2w::virtio
