// Split virtqueues with good and hostile descriptor chains, the virtio-mmio register file, and
// the console (multiport handshake, port data both ways) and rng devices.
#include <gtest/gtest.h>

#include <string>

#include "emulators/virtio/console.h"
#include "emulators/virtio/rng.h"
#include "tests/unit/virtio_support.h"

namespace {

using namespace virtiotest;
using c2w::virtio::Chain;
using c2w::virtio::Console;
using c2w::virtio::Rng;
using c2w::virtio::Virtqueue;

class QueueTest : public ::testing::Test {
 protected:
  QueueTest() {
    q.size = kQueueSize;
    q.ready = true;
    q.desc_addr = Driver::desc(0);
    q.avail_addr = Driver::avail(0);
    q.used_addr = Driver::used(0);
  }
  void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
    desc_at(Driver::desc(0) + 16 * uint64_t{i}, addr, len, flags, next);
  }
  void desc_at(uint64_t pa, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
    mem.put<uint64_t>(pa, addr);
    mem.put<uint32_t>(pa + 8, len);
    mem.put<uint16_t>(pa + 12, flags);
    mem.put<uint16_t>(pa + 14, next);
  }
  void publish(uint16_t head) {
    mem.put<uint16_t>(Driver::avail(0) + 4 + 2 * (avail_idx % kQueueSize), head);
    mem.put<uint16_t>(Driver::avail(0) + 2, ++avail_idx);
  }
  Virtqueue::Pop pop() { return q.pop(mem.ram(), &chain); }

  TestRam mem;
  Virtqueue q;
  Chain chain;
  uint16_t avail_idx = 0;
  static constexpr uint64_t kBuf = kRamBase + 0x200000;
};

TEST_F(QueueTest, DirectChainAndUsedRing) {
  EXPECT_EQ(pop(), Virtqueue::Pop::kEmpty);
  std::memcpy(mem.at(kBuf), "hello, ", 7);
  std::memcpy(mem.at(kBuf + 0x100), "world", 5);
  desc(3, kBuf, 7, kNext, 5);
  desc(5, kBuf + 0x100, 5, kNext, 7);
  desc(7, kBuf + 0x200, 64, kWrite);
  publish(3);
  ASSERT_EQ(pop(), Virtqueue::Pop::kChain);
  EXPECT_EQ(chain.head, 3);
  EXPECT_EQ(chain.readable.size(), 2u);
  EXPECT_EQ(chain.readable_len, 12u);
  EXPECT_EQ(chain.writable_len, 64u);
  char text[16] = {};
  EXPECT_EQ(chain.read(mem.ram(), 0, text, sizeof text), 12u);
  EXPECT_STREQ(text, "hello, world");
  EXPECT_EQ(chain.read(mem.ram(), 5, text, 4), 4u);  // across the segment boundary
  EXPECT_EQ(std::string(text, 4), ", wo");
  EXPECT_EQ(chain.write(mem.ram(), 0, "reply", 5), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(mem.at(kBuf + 0x200)), 5), "reply");
  EXPECT_EQ(pop(), Virtqueue::Pop::kEmpty);
  ASSERT_TRUE(q.push(mem.ram(), chain.head, 5));
  EXPECT_EQ(mem.get<uint16_t>(Driver::used(0) + 2), 1);
  EXPECT_EQ(mem.get<uint32_t>(Driver::used(0) + 4), 3u);
  EXPECT_EQ(mem.get<uint32_t>(Driver::used(0) + 8), 5u);
}

TEST_F(QueueTest, IndirectTable) {
  const uint64_t table = kRamBase + 0x300000;
  desc_at(table, kBuf, 4, kNext, 1);
  desc_at(table + 16, kBuf + 0x100, 8, kWrite);
  desc(0, table, 32, kIndirect);
  publish(0);
  ASSERT_EQ(pop(), Virtqueue::Pop::kBroken) << "indirect descriptors without the feature";
  q.broken = false;
  q.last_avail = 0;
  q.indirect_allowed = true;
  ASSERT_EQ(pop(), Virtqueue::Pop::kChain);
  EXPECT_EQ(chain.readable_len, 4u);
  EXPECT_EQ(chain.writable_len, 8u);
}

TEST_F(QueueTest, DescriptorLoopEnds) {
  desc(0, kBuf, 4, kNext, 1);
  desc(1, kBuf, 4, kNext, 0);
  publish(0);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
  EXPECT_TRUE(q.broken);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken) << "a broken queue stays broken";
}

TEST_F(QueueTest, SelfLoopInIndirectTableEnds) {
  q.indirect_allowed = true;
  const uint64_t table = kRamBase + 0x300000;
  desc_at(table, kBuf, 4, kNext, 0);
  desc(0, table, 16, kIndirect);
  publish(0);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
}

TEST_F(QueueTest, LongLegalLookingIndirectChainIsBounded) {
  // A table the size of all of RAM whose entries all chain onward: bounded by kMaxChain.
  q.indirect_allowed = true;
  const uint64_t table = kRamBase + 0x300000;
  const uint32_t n = Virtqueue::kMaxChain + 8;
  ASSERT_LE(uint64_t{n} * 16, kRamSize - 0x300000);
  for (uint32_t i = 0; i < n; ++i)
    desc_at(table + 16 * uint64_t{i}, kBuf, 1, kNext, static_cast<uint16_t>(i + 1));
  desc(0, table, n * 16, kIndirect);
  publish(0);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
}

TEST_F(QueueTest, HostileAddressesAndLengths) {
  struct Case {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
  };
  const Case cases[] = {
      {0, 16, 0},                        // below RAM
      {kRamBase + kRamSize - 8, 16, 0},  // straddles the end of RAM
      {kRamBase, 0xffffffff, kWrite},    // longer than RAM
      {~uint64_t{0} - 4, 16, 0},         // wraps around the address space
      {kRamBase + kRamSize, 1, 0},       // one past the end
      {0x10001000, 4, kWrite},           // device memory is not RAM
  };
  for (const Case& c : cases) {
    q = Virtqueue();
    q.size = kQueueSize, q.ready = true, q.desc_addr = Driver::desc(0),
    q.avail_addr = Driver::avail(0), q.used_addr = Driver::used(0);
    avail_idx = 0;
    desc(0, c.addr, c.len, c.flags);
    publish(0);
    EXPECT_EQ(pop(), Virtqueue::Pop::kBroken) << std::hex << c.addr << " " << c.len;
  }
}

TEST_F(QueueTest, HostileRingState) {
  // Head index out of the table.
  desc(0, kBuf, 4, 0);
  mem.put<uint16_t>(Driver::avail(0) + 4, kQueueSize);
  mem.put<uint16_t>(Driver::avail(0) + 2, 1);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
  // More entries published than the ring holds.
  q.broken = false;
  mem.put<uint16_t>(Driver::avail(0) + 4, 0);
  mem.put<uint16_t>(Driver::avail(0) + 2, kQueueSize + 1);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
  // Readable after writable.
  q.broken = false;
  mem.put<uint16_t>(Driver::avail(0) + 2, 1);
  desc(0, kBuf, 4, kWrite | kNext, 1);
  desc(1, kBuf, 4, 0);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
  // Nested indirect tables and indirect together with NEXT.
  q = Virtqueue();
  q.size = kQueueSize, q.ready = true, q.indirect_allowed = true, q.desc_addr = Driver::desc(0),
  q.avail_addr = Driver::avail(0), q.used_addr = Driver::used(0);
  const uint64_t table = kRamBase + 0x300000;
  desc_at(table, table, 16, kIndirect);
  desc(0, table, 16, kIndirect);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
  q.broken = false, q.last_avail = 0;
  desc(0, table, 16, kIndirect | kNext, 1);
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
  q.broken = false, q.last_avail = 0;
  desc(0, table, 12, kIndirect);  // not a whole descriptor
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
  // Rings outside RAM.
  q = Virtqueue();
  q.size = kQueueSize, q.ready = true, q.desc_addr = Driver::desc(0), q.avail_addr = 0x1000,
  q.used_addr = ~uint64_t{0} - 2;
  EXPECT_EQ(pop(), Virtqueue::Pop::kBroken);
  EXPECT_FALSE(q.push(mem.ram(), 0, 0));
}

// ---- transport + devices ----

class TransportTest : public ::testing::Test {
 protected:
  TestRam mem;
  bool irq = false;
  int irq_changes = 0;
  std::function<void(bool)> line() {
    return [this](bool level) {
      irq_changes += level != irq;
      irq = level;
    };
  }
};

TEST_F(TransportTest, RegistersAndNegotiation) {
  uint8_t counter = 0;
  Rng rng([&](uint8_t* b, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) b[i] = counter++;
  });
  MmioTransport t(&rng, mem.ram(), line());
  Driver d(t, mem);
  EXPECT_EQ(d.reg(0x000), 0x74726976u);
  EXPECT_EQ(d.reg(0x004), 2u);
  EXPECT_EQ(d.reg(0x008), 4u);
  d.set(0x14, 1);
  EXPECT_EQ(d.reg(0x10), 1u) << "VERSION_1 offered";
  uint64_t v;
  EXPECT_FALSE(t.read(0x000, 8, &v)) << "registers are 32-bit";
  EXPECT_FALSE(t.read(0x002, 4, &v)) << "and aligned";
  EXPECT_FALSE(t.read(0x100, 1, &v)) << "rng has no config space";
  EXPECT_FALSE(t.read(0x2000, 4, &v));
  // A driver that refuses VERSION_1 does not get FEATURES_OK.
  EXPECT_EQ(d.negotiate(0) & 8, 0u);
  EXPECT_EQ(d.negotiate(c2w::virtio::kFeatureVersion1) & 8, 8u);
  d.setup_queue(0);
  d.set(0x30, 7);
  EXPECT_EQ(d.reg(0x34), 0u) << "no queue 7";
  d.driver_ok();

  d.add(0, {{kRamBase + 0x200000, 10, true}});
  d.kick(0);
  ASSERT_TRUE(d.has_used(0));
  EXPECT_EQ(d.take_used(0).second, 10u);
  EXPECT_EQ(mem.at(kRamBase + 0x200000)[9], 9);
  EXPECT_TRUE(irq);
  EXPECT_EQ(d.reg(0x60), 1u);
  d.set(0x64, 1);
  EXPECT_FALSE(irq);
  // Suppressed interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT).
  mem.put<uint16_t>(Driver::avail(0), 1);
  d.add(0, {{kRamBase + 0x200000, 4, true}});
  d.kick(0);
  EXPECT_TRUE(d.has_used(0));
  EXPECT_FALSE(irq);
}

TEST_F(TransportTest, BrokenQueueSetsNeedsReset) {
  Rng rng([](uint8_t* b, uint32_t n) { std::memset(b, 0, n); });
  MmioTransport t(&rng, mem.ram(), line());
  Driver d(t, mem);
  d.negotiate(c2w::virtio::kFeatureVersion1);
  d.setup_queue(0);
  d.driver_ok();
  const uint32_t gen = d.reg(0xfc);
  d.write_desc(0, 0, 0xdead0000, 16, kWrite, 0);
  d.publish(0, 0);
  d.kick(0);
  EXPECT_EQ(d.reg(0x70) & 0x40, 0x40u) << "DEVICE_NEEDS_RESET";
  EXPECT_EQ(d.reg(0x60) & 2, 2u) << "config change interrupt";
  EXPECT_NE(d.reg(0xfc), gen);
  // A reset recovers the device.
  d.negotiate(c2w::virtio::kFeatureVersion1);
  EXPECT_EQ(d.reg(0x70) & 0x40, 0u);
  EXPECT_FALSE(irq);
}

TEST_F(TransportTest, QueueLayoutIsFrozenWhileReady) {
  Rng rng([](uint8_t* b, uint32_t n) { std::memset(b, 0, n); });
  MmioTransport t(&rng, mem.ram(), line());
  Driver d(t, mem);
  d.negotiate(c2w::virtio::kFeatureVersion1);
  d.setup_queue(0);
  d.set(0x80, 0x1234);
  d.set(0x38, 2);
  EXPECT_EQ(d.reg(0x80), static_cast<uint32_t>(Driver::desc(0)));
  EXPECT_EQ(d.reg(0x38), kQueueSize);
  d.set(0x44, 0);
  d.set(0x38, 512);  // above QueueNumMax: ignored
  EXPECT_EQ(d.reg(0x38), kQueueSize);
}

// Reads one control message (8-byte header + payload) from the console's control rx queue.
struct ControlMsg {
  uint32_t id;
  uint16_t event, value;
  std::string payload;
};

class ConsoleTest : public TransportTest {
 protected:
  static constexpr unsigned kCtrlRx = 2, kCtrlTx = 3, kPort1Rx = 4, kPort1Tx = 5;
  static constexpr uint64_t kBufs = kRamBase + 0x200000;

  ConsoleTest()
      : console({{"", true}, {"c2w.control", false}}), t(&console, mem.ram(), line()), d(t, mem) {
    console.set_output(
        [this](unsigned port, const uint8_t* data, uint32_t n) {
          out[port].append(reinterpret_cast<const char*>(data), n);
        },
        [this](unsigned) -> uint64_t { return space; });
    EXPECT_EQ(d.negotiate(c2w::virtio::kFeatureVersion1 | 2) & 8, 8u);
    for (unsigned q = 0; q < console.num_queues(); ++q) d.setup_queue(q);
    d.driver_ok();
  }
  void give_control_buffers(unsigned n) {
    for (unsigned i = 0; i < n; ++i) d.add(kCtrlRx, {{kBufs + 0x100 * next_buf++, 64, true}});
    d.kick(kCtrlRx);
  }
  void send_control(uint32_t id, uint16_t event, uint16_t value) {
    const uint64_t pa = kBufs + 0x100 * next_buf++;
    mem.put<uint32_t>(pa, id);
    mem.put<uint16_t>(pa + 4, event);
    mem.put<uint16_t>(pa + 6, value);
    d.add(kCtrlTx, {{pa, 8, false}});
    d.kick(kCtrlTx);
  }
  std::vector<ControlMsg> control_messages() {
    std::vector<ControlMsg> msgs;
    while (d.has_used(kCtrlRx)) {
      const auto [head, len] = d.take_used(kCtrlRx);
      uint64_t addr = mem.get<uint64_t>(Driver::desc(kCtrlRx) + 16 * head);
      ControlMsg m{mem.get<uint32_t>(addr), mem.get<uint16_t>(addr + 4),
                   mem.get<uint16_t>(addr + 6),
                   std::string(reinterpret_cast<char*>(mem.at(addr + 8)), len - 8)};
      msgs.push_back(m);
    }
    return msgs;
  }

  Console console;
  MmioTransport t;
  Driver d;
  std::string out[2];
  uint64_t space = 1 << 20;
  unsigned next_buf = 0;
};

TEST_F(ConsoleTest, MultiportHandshakeNamesThePort) {
  uint64_t v;
  ASSERT_TRUE(t.read(0x104, 4, &v));
  EXPECT_EQ(v, 2u) << "max_nr_ports";
  send_control(0xffffffff, 0, 1);  // DEVICE_READY
  give_control_buffers(8);
  auto msgs = control_messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].event, 1);  // DEVICE_ADD
  EXPECT_EQ(msgs[0].id, 0u);
  EXPECT_EQ(msgs[1].id, 1u);

  send_control(0, 3, 1);  // PORT_READY port 0
  send_control(1, 3, 1);  // PORT_READY port 1
  msgs = control_messages();
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0].event, 4);  // CONSOLE_PORT for port 0
  EXPECT_EQ(msgs[1].event, 6);  // PORT_OPEN (host connected) for port 0
  EXPECT_EQ(msgs[2].id, 1u);
  EXPECT_EQ(msgs[2].event, 7);  // PORT_NAME, without a terminating NUL (Linux adds one)
  EXPECT_EQ(msgs[2].payload, "c2w.control");
  EXPECT_EQ(msgs[3].event, 6);
  EXPECT_EQ(msgs[3].value, 1);

  // Host input waits until the guest opens the port.
  EXPECT_EQ(console.input(1, reinterpret_cast<const uint8_t*>("run ls"), 6), 6u);
  d.add(kPort1Rx, {{kBufs + 0x8000, 4, true}});
  d.add(kPort1Rx, {{kBufs + 0x9000, 64, true}});
  d.kick(kPort1Rx);
  EXPECT_FALSE(d.has_used(kPort1Rx));
  send_control(1, 6, 1);  // PORT_OPEN from the guest
  EXPECT_TRUE(console.guest_open(1));
  ASSERT_TRUE(d.has_used(kPort1Rx));
  EXPECT_EQ(d.take_used(kPort1Rx).second, 4u);
  EXPECT_EQ(d.take_used(kPort1Rx).second, 2u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(mem.at(kBufs + 0x8000)), 4), "run ");
  EXPECT_EQ(console.input_pending(1), 0u);

  // Guest output, paused while the host has no room.
  std::memcpy(mem.at(kBufs + 0xa000), "ready\n", 6);
  space = 0;
  d.add(kPort1Tx, {{kBufs + 0xa000, 6, false}});
  d.kick(kPort1Tx);
  EXPECT_EQ(out[1], "");
  EXPECT_FALSE(d.has_used(kPort1Tx));
  space = 100;
  t.poll();
  EXPECT_EQ(out[1], "ready\n");
  EXPECT_TRUE(d.has_used(kPort1Tx));

  // Host disconnect is announced.
  console.set_host_open(1, false);
  msgs = control_messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].event, 6);
  EXPECT_EQ(msgs[0].value, 0);
}

TEST_F(ConsoleTest, HostileControlMessagesAreIgnored) {
  send_control(1000, 3, 1);  // no such port
  send_control(1, 99, 1);    // no such event
  const uint64_t pa = kBufs + 0x7000;
  d.add(kCtrlTx, {{pa, 3, false}});  // shorter than a header
  d.kick(kCtrlTx);
  // DEVICE_READY repeated without consuming: the queued messages stay bounded.
  for (int i = 0; i < 3000; ++i) {
    send_control(0xffffffff, 0, 1);
    d.take_used(kCtrlTx);
  }
  give_control_buffers(4);
  EXPECT_EQ(control_messages().size(), 4u);
  EXPECT_EQ(d.reg(0x70) & 0x40, 0u);
}

}  // namespace
