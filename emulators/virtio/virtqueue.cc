#include "emulators/virtio/virtqueue.h"

namespace c2w::virtio {
namespace {

constexpr uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;
constexpr uint16_t kAvailNoInterrupt = 1;
constexpr uint64_t kDescSize = 16;

struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

bool read_desc(const emulators::GuestRam& ram, uint64_t table, uint32_t index, Desc* d) {
  const uint8_t* p = ram.ptr(table + kDescSize * index, kDescSize);
  if (!p) return false;
  d->addr = 0;
  for (int i = 7; i >= 0; --i) d->addr = d->addr << 8 | p[i];
  d->len = uint32_t{p[8]} | uint32_t{p[9]} << 8 | uint32_t{p[10]} << 16 | uint32_t{p[11]} << 24;
  d->flags = static_cast<uint16_t>(p[12] | p[13] << 8);
  d->next = static_cast<uint16_t>(p[14] | p[15] << 8);
  return true;
}

}  // namespace

// Copies up to `len` bytes between a buffer and the segments, starting `offset` bytes into
// them; `copy(guest_addr, buffer_pos, n)` does one piece and fails on a bad guest address.
template <typename Copy>
uint64_t walk_segments(const std::vector<Segment>& segments, uint64_t offset, uint64_t len,
                       Copy copy) {
  uint64_t done = 0;
  for (const Segment& s : segments) {
    if (done == len) break;
    if (offset >= s.len) {
      offset -= s.len;
      continue;
    }
    uint64_t n = s.len - offset;
    if (n > len - done) n = len - done;
    if (!copy(s.addr + offset, done, n)) break;
    done += n;
    offset = 0;
  }
  return done;
}

uint64_t Chain::read(const emulators::GuestRam& ram, uint64_t offset, void* dst,
                     uint64_t len) const {
  auto* out = static_cast<uint8_t*>(dst);
  return walk_segments(readable, offset, len, [&](uint64_t addr, uint64_t at, uint64_t n) {
    return ram.read(addr, out + at, n);
  });
}

uint64_t Chain::write(const emulators::GuestRam& ram, uint64_t offset, const void* src,
                      uint64_t len) const {
  const auto* in = static_cast<const uint8_t*>(src);
  return walk_segments(writable, offset, len, [&](uint64_t addr, uint64_t at, uint64_t n) {
    return ram.write(addr, in + at, n);
  });
}

bool Virtqueue::interrupt_suppressed(const emulators::GuestRam& ram) const {
  uint16_t flags = 0;
  return ram.load(avail_addr, &flags) && (flags & kAvailNoInterrupt);
}

Virtqueue::Pop Virtqueue::pop(const emulators::GuestRam& ram, Chain* chain) {
  if (broken) return Pop::kBroken;
  if (!ready || size == 0) return Pop::kEmpty;
  uint16_t idx, head = 0;
  if (!ram.load(avail_addr + 2, &idx)) {
    broken = true;
    return Pop::kBroken;
  }
  const auto pending = static_cast<uint16_t>(idx - last_avail);
  if (pending == 0) return Pop::kEmpty;
  // More entries than the ring holds can only come from a confused or hostile driver.
  if (pending > size || !ram.load(avail_addr + 4 + 2 * (uint64_t{last_avail} % size), &head) ||
      head >= size || !walk(ram, head, chain)) {
    broken = true;
    return Pop::kBroken;
  }
  ++last_avail;
  return Pop::kChain;
}

bool Virtqueue::walk(const emulators::GuestRam& ram, uint16_t head, Chain* chain) {
  chain->head = head;
  chain->readable.clear();
  chain->writable.clear();
  chain->readable_len = chain->writable_len = 0;
  uint64_t table = desc_addr;
  uint32_t table_len = size;
  uint32_t index = head;
  bool in_indirect = false;
  for (unsigned count = 0;; ++count) {
    Desc d;
    if (count >= kMaxChain || index >= table_len || !read_desc(ram, table, index, &d)) return false;
    if (d.flags & kDescIndirect) {
      // One level only, never combined with NEXT, and a whole number of descriptors.
      if (in_indirect || !indirect_allowed || (d.flags & kDescNext) || d.len == 0 ||
          d.len % kDescSize != 0 || d.len / kDescSize > kMaxChain || !ram.ptr(d.addr, d.len))
        return false;
      table = d.addr;
      table_len = d.len / kDescSize;
      index = 0;
      in_indirect = true;
      continue;
    }
    if (!ram.ptr(d.addr, d.len)) return false;
    if (d.flags & kDescWrite) {
      chain->writable.push_back({d.addr, d.len});
      chain->writable_len += d.len;
    } else {
      if (!chain->writable.empty()) return false;  // readable after writable is not allowed
      chain->readable.push_back({d.addr, d.len});
      chain->readable_len += d.len;
    }
    if (!(d.flags & kDescNext)) return true;
    index = d.next;
  }
}

bool Virtqueue::push(const emulators::GuestRam& ram, uint16_t head, uint32_t written) {
  if (broken || size == 0) return false;
  const uint64_t elem = used_addr + 4 + 8 * (uint64_t{next_used} % size);
  const auto next = static_cast<uint16_t>(next_used + 1);
  if (!ram.store<uint32_t>(elem, head) || !ram.store<uint32_t>(elem + 4, written) ||
      !ram.store<uint16_t>(used_addr + 2, next)) {
    broken = true;
    return false;
  }
  next_used = next;
  return true;
}

}  // namespace c2w::virtio
