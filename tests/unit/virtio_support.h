// A minimal virtio-mmio driver for tests: programs a MmioTransport through its registers the way
// Linux does, lays out split rings in a RAM buffer, adds descriptor chains and reads the used
// ring. It also lets tests write arbitrary (hostile) descriptors.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "emulators/common/guest_ram.h"
#include "emulators/virtio/mmio.h"

namespace virtiotest {

using c2w::emulators::GuestRam;
using c2w::virtio::MmioTransport;

constexpr uint64_t kRamBase = 0x80000000;
constexpr uint64_t kRamSize = 4 << 20;
constexpr uint16_t kQueueSize = 16;
constexpr uint16_t kNext = 1, kWrite = 2, kIndirect = 4;

struct Buf {
  uint64_t addr;
  uint32_t len;
  bool device_writes;
};

class TestRam {
 public:
  TestRam() : mem_(kRamSize), ram_{mem_.data(), kRamBase, kRamSize} {}
  const GuestRam& ram() const { return ram_; }
  uint8_t* at(uint64_t pa) { return ram_.ptr(pa, 1); }
  template <typename T>
  void put(uint64_t pa, T v) {
    ASSERT_TRUE(ram_.store(pa, v));
  }
  template <typename T>
  T get(uint64_t pa) {
    T v{};
    EXPECT_TRUE(ram_.load(pa, &v));
    return v;
  }

 private:
  std::vector<uint8_t> mem_;
  GuestRam ram_;
};

class Driver {
 public:
  Driver(MmioTransport& t, TestRam& ram) : t_(t), ram_(ram) {}

  uint32_t reg(uint64_t off) {
    uint64_t v = 0;
    EXPECT_TRUE(t_.read(off, 4, &v)) << off;
    return static_cast<uint32_t>(v);
  }
  void set(uint64_t off, uint32_t v) { EXPECT_TRUE(t_.write(off, 4, v)) << off; }

  // Reset, ACKNOWLEDGE|DRIVER, feature negotiation, FEATURES_OK; returns the status read back.
  uint32_t negotiate(uint64_t features) {
    set(0x70, 0);
    set(0x70, 1);
    set(0x70, 3);
    set(0x24, 0);
    set(0x20, static_cast<uint32_t>(features));
    set(0x24, 1);
    set(0x20, static_cast<uint32_t>(features >> 32));
    set(0x70, 3 | 8);
    return reg(0x70);
  }
  void driver_ok() { set(0x70, reg(0x70) | 4); }

  // Queue q's rings live at ring_base(q): descriptors, then avail at +0x100, used at +0x200.
  static uint64_t ring_base(unsigned q) { return kRamBase + 0x100000 + q * 0x1000; }
  static uint64_t desc(unsigned q) { return ring_base(q); }
  static uint64_t avail(unsigned q) { return ring_base(q) + 0x100; }
  static uint64_t used(unsigned q) { return ring_base(q) + 0x200; }

  void setup_queue(unsigned q, uint16_t size = kQueueSize) {
    set(0x30, q);
    ASSERT_GE(reg(0x34), size);
    set(0x38, size);
    set(0x80, static_cast<uint32_t>(desc(q)));
    set(0x84, static_cast<uint32_t>(desc(q) >> 32));
    set(0x90, static_cast<uint32_t>(avail(q)));
    set(0x94, 0);
    set(0xa0, static_cast<uint32_t>(used(q)));
    set(0xa4, 0);
    set(0x44, 1);
    if (q >= next_desc_.size())
      next_desc_.resize(q + 1), avail_idx_.resize(q + 1), used_seen_.resize(q + 1);
  }

  void write_desc(unsigned q, uint16_t index, uint64_t addr, uint32_t len, uint16_t flags,
                  uint16_t next) {
    write_desc_at(desc(q) + 16 * uint64_t{index}, addr, len, flags, next);
  }
  void write_desc_at(uint64_t pa, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    ram_.put<uint64_t>(pa, addr);
    ram_.put<uint32_t>(pa + 8, len);
    ram_.put<uint16_t>(pa + 12, flags);
    ram_.put<uint16_t>(pa + 14, next);
  }
  // Publishes `head` in the available ring.
  void publish(unsigned q, uint16_t head) {
    const uint16_t i = avail_idx_[q]++;
    ram_.put<uint16_t>(avail(q) + 4 + 2 * (i % kQueueSize), head);
    ram_.put<uint16_t>(avail(q) + 2, avail_idx_[q]);
  }
  // Adds a chain of direct descriptors and publishes it; returns its head.
  uint16_t add(unsigned q, const std::vector<Buf>& bufs) {
    const uint16_t head = next_desc_[q];
    for (size_t i = 0; i < bufs.size(); ++i) {
      const uint16_t idx = static_cast<uint16_t>((head + i) % kQueueSize);
      const bool last = i + 1 == bufs.size();
      write_desc(q, idx, bufs[i].addr, bufs[i].len,
                 static_cast<uint16_t>((last ? 0 : kNext) | (bufs[i].device_writes ? kWrite : 0)),
                 static_cast<uint16_t>((idx + 1) % kQueueSize));
    }
    next_desc_[q] = static_cast<uint16_t>((head + bufs.size()) % kQueueSize);
    publish(q, head);
    return head;
  }
  void kick(unsigned q) { set(0x50, q); }

  uint16_t used_idx(unsigned q) { return ram_.get<uint16_t>(used(q) + 2); }
  // The next unseen used element (id, len); fails the test if there is none.
  std::pair<uint32_t, uint32_t> take_used(unsigned q) {
    EXPECT_NE(used_idx(q), used_seen_[q]) << "no used buffer on queue " << q;
    const uint16_t i = used_seen_[q]++;
    const uint64_t e = used(q) + 4 + 8 * (i % kQueueSize);
    return {ram_.get<uint32_t>(e), ram_.get<uint32_t>(e + 4)};
  }
  bool has_used(unsigned q) { return used_idx(q) != used_seen_[q]; }
  // Forgets every ring position, for a driver that starts over after a device reset (clear the
  // rings' memory too, so that no old used index is taken for a new one).
  void forget_rings() {
    next_desc_.clear();
    avail_idx_.clear();
    used_seen_.clear();
  }

 private:
  MmioTransport& t_;
  TestRam& ram_;
  std::vector<uint16_t> next_desc_, avail_idx_, used_seen_;
};

}  // namespace virtiotest
