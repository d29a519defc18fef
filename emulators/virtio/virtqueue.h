// The device side of a virtio 1.x split virtqueue (virtio spec 1.2, section 2.7): popping
// descriptor chains from the available ring (direct and indirect descriptors) and returning
// them through the used ring.
//
// Everything in the rings is written by the guest and therefore untrusted. This code promises:
//  - every ring, table and buffer address is checked against guest RAM before use;
//  - a chain is at most kMaxChain descriptors, so a descriptor cycle or a huge indirect table
//    ends the walk instead of looping or allocating without bound;
//  - a malformed ring marks the queue broken (the transport then reports DEVICE_NEEDS_RESET)
//    and the queue is not processed again until the driver resets the device.
#pragma once

#include <cstdint>
#include <vector>

#include "emulators/common/guest_ram.h"

namespace c2w::virtio {

struct Segment {
  uint64_t addr;
  uint32_t len;
};

// One descriptor chain: the device-readable buffers first, then the device-writable ones.
struct Chain {
  uint16_t head = 0;
  std::vector<Segment> readable;
  std::vector<Segment> writable;
  uint64_t readable_len = 0;
  uint64_t writable_len = 0;

  // Copies up to len bytes of the readable part, starting at byte `offset` of it, to dst;
  // returns the number of bytes copied.
  uint64_t read(const emulators::GuestRam& ram, uint64_t offset, void* dst, uint64_t len) const;
  // Copies up to len bytes from src into the writable part at byte `offset`; returns the count.
  uint64_t write(const emulators::GuestRam& ram, uint64_t offset, const void* src,
                 uint64_t len) const;
};

class Virtqueue {
 public:
  static constexpr unsigned kMaxChain = 4096;

  enum class Pop { kEmpty, kChain, kBroken };
  // Takes the next available chain. kBroken means the guest corrupted the queue.
  Pop pop(const emulators::GuestRam& ram, Chain* chain);
  // Returns a chain to the driver with `written` bytes written to its writable part.
  // False (and the queue broken) if the used ring is outside RAM.
  bool push(const emulators::GuestRam& ram, uint16_t head, uint32_t written);
  // Whether the driver asked not to be interrupted for used buffers (VIRTQ_AVAIL_F_NO_INTERRUPT).
  bool interrupt_suppressed(const emulators::GuestRam& ram) const;
  // A request queue's whole service: every available chain goes to `serve(const Chain&)`,
  // which returns the bytes it wrote, and back to the driver with that count, until the ring
  // is empty or broken. Each entry is popped once, so this ends after at most the ring's size.
  // True when any chain was used (the device then interrupts the driver).
  template <typename Serve>
  bool serve_all(const emulators::GuestRam& ram, Chain* chain, Serve&& serve) {
    bool used = false;
    while (pop(ram, chain) == Pop::kChain) {
      if (!push(ram, chain->head, serve(*chain))) break;
      used = true;
    }
    return used;
  }

  void reset() { *this = Virtqueue(); }

  // Driver-programmed state (written through the transport while the queue is not ready).
  uint16_t size = 0;
  bool ready = false;
  uint64_t desc_addr = 0, avail_addr = 0, used_addr = 0;
  bool indirect_allowed = false;  // VIRTIO_F_RING_INDIRECT_DESC negotiated
  // Device progress.
  uint16_t last_avail = 0;
  uint16_t next_used = 0;
  bool broken = false;

 private:
  bool walk(const emulators::GuestRam& ram, uint16_t head, Chain* chain);
};

}  // namespace c2w::virtio
