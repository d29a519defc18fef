// Machine snapshots (run N, save, restore, run M == run N+M; corrupt snapshots are refused) and
// a hostile S-mode guest that programs the virtio devices with random rings and registers.
#include "emulators/common/block_source.h"
#include "emulators/common/fdt.h"
#include "emulators/virtio/blk.h"
#include "tests/unit/riscv64_machine_support.h"

namespace {

using namespace machinetest;

inline uint32_t and_(int rd, int a, int b) {
  return op(7, 0, rd, a, b);
}
inline uint32_t or_(int rd, int a, int b) {
  return op(6, 0, rd, a, b);
}
enum : int { s6 = 22, s7 = 23, s8 = 24, s9 = 25 };
inline uint32_t xor_(int rd, int a, int b) {
  return op(4, 0, rd, a, b);
}

// A loop that mixes integer, FP and memory state and prints through SBI now and then.
std::vector<uint32_t> busy_program() {
  std::vector<uint32_t> p = li(s0, 0x80100000);
  p += li(s2, 12345);
  p += li(t3, 6364136223846793005u);
  p += li(t0, 1 << 13);
  p.push_back(csrrs(zero, 0x100, t0));  // sstatus.FS = initial
  const size_t loop = p.size();
  p.push_back(mul(s2, s2, t3));
  p.push_back(addi(s2, s2, 1));
  p.push_back(addi(s1, s1, 1));
  p.push_back(srli(t0, s2, 52));
  p.push_back(slli(t0, t0, 3));
  p.push_back(add(t0, t0, s0));
  p.push_back(sd(s2, t0, 0));
  p.push_back(fp(kFcvtFromInt, 1, 1, s1, 2, 0));  // fcvt.d.l f1, s1
  p.push_back(fp(kFadd, 1, 2, 2, 1, 0));          // fadd.d f2, f2, f1
  p.push_back(andi(t0, s1, 0x3ff));
  const size_t skip_at = p.size();
  p.push_back(0);  // bne t0, zero, -> loop end (patched)
  p += li(a7, 1);
  p.push_back(srli(a0, s1, 10));
  p.push_back(andi(a0, a0, 15));
  p.push_back(addi(a0, a0, 'a'));
  p.push_back(ecall());
  p[skip_at] = bne(t0, zero, static_cast<int32_t>(4 * (p.size() - skip_at)));
  p.push_back(jal(zero, -static_cast<int32_t>(4 * (p.size() - loop))));
  return p;
}

void take_all(Machine& m, std::string* out) {
  *out += m.take_console_output();
  for (unsigned p = 0; p < m.num_ports(); ++p) *out += m.take_port_output(p);
}

TEST_F(MachineTest, SnapshotRunNThenMEqualsRunNPlusM) {
  constexpr uint64_t kN = 300'001, kM = 200'003;
  const std::vector<uint32_t> code = busy_program();
  auto ref = make(code);
  auto a = make(code);
  ASSERT_TRUE(ref && a);
  std::string ref_out, split_out;
  ASSERT_EQ(ref->run(kN + kM).stop, Stop::kBudget);
  take_all(*ref, &ref_out);
  ASSERT_EQ(a->run(kN).stop, Stop::kBudget);
  take_all(*a, &split_out);
  const std::vector<uint8_t> snap = a->save();
  a.reset();  // the restored machine must not depend on the original

  host.now += 777'000'000;  // the restoring process starts later: guest time must not jump
  std::string err;
  auto b = Machine::restore(snap.data(), snap.size(), host, &err);
  ASSERT_NE(b, nullptr) << err;
  ASSERT_EQ(b->run(kM).stop, Stop::kBudget);
  take_all(*b, &split_out);
  host.now -= 777'000'000;

  EXPECT_FALSE(ref_out.empty());
  EXPECT_EQ(split_out, ref_out);
  EXPECT_EQ(b->cpu().instret, ref->cpu().instret);
  EXPECT_EQ(b->cpu().f[2], ref->cpu().f[2]);
  host.now += 777'000'000;
  const std::vector<uint8_t> from_b = b->save();
  host.now -= 777'000'000;
  EXPECT_TRUE(from_b == ref->save()) << "whole-machine state differs";
}

TEST_F(MachineTest, SnapshotSkipsZeroPagesAndIsCompact) {
  MachineConfig config;
  config.ram_size = 64 << 20;
  boot(busy_program(), std::move(config));
  m->run(100'000);
  const std::vector<uint8_t> snap = m->save();
  uint64_t nonzero = 0;
  for (uint64_t off = 0; off < m->ram_size(); off += 4096) {
    const uint8_t* p = m->bus().ram() + off;
    bool any = false;
    for (unsigned i = 0; i < 4096 && !any; ++i) any = p[i] != 0;
    nonzero += any;
  }
  // Kernel, device tree and the pages the program wrote: a few pages, not 64 MiB.
  EXPECT_GE(nonzero, 3u);
  EXPECT_LT(nonzero, 16u);
  EXPECT_GT(snap.size(), nonzero * (4096 + 4));
  EXPECT_LT(snap.size(), nonzero * (4096 + 4) + 4096);
  EXPECT_EQ(std::string(snap.begin(), snap.begin() + 7), "c2wsnap");
}

TEST_F(MachineTest, CorruptSnapshotsAreRefused) {
  MachineConfig config;
  config.ram_size = 16 << 20;
  boot(busy_program(), std::move(config));
  m->run(10'000);
  const std::vector<uint8_t> snap = m->save();
  std::string err;
  for (size_t n = 0; n < snap.size(); n += 61) {
    EXPECT_EQ(Machine::restore(snap.data(), n, host, &err), nullptr) << n;
    EXPECT_FALSE(err.empty());
  }
  // Any single corrupted byte in the header and the small sections: refused or restored, never
  // a crash (the RAM payload itself is not checksummed).
  const size_t ram_at = std::string(snap.begin(), snap.end()).find("RAM ");
  ASSERT_NE(ram_at, std::string::npos);
  for (size_t i = 0; i < ram_at + 32; ++i) {
    std::vector<uint8_t> bad = snap;
    bad[i] ^= 0x5a;
    Machine::restore(bad.data(), bad.size(), host, &err);
  }
  std::vector<uint8_t> v2 = snap;
  v2[8] = 2;
  EXPECT_EQ(Machine::restore(v2.data(), v2.size(), host, &err), nullptr);
  EXPECT_NE(err.find("version 2"), std::string::npos) << err;
}

// ---- a hostile guest ----

std::vector<uint32_t> init_virtio(int base, uint64_t rings, unsigned queues) {
  std::vector<uint32_t> p = {sw(zero, base, 0x70), addi(t0, zero, 3),  sw(t0, base, 0x70),
                             addi(t0, zero, 1),    sw(t0, base, 0x24), sw(t0, base, 0x20),
                             sw(zero, base, 0x24)};
  p += li(t0, 0x10000002);  // INDIRECT_DESC | MULTIPORT
  p += {sw(t0, base, 0x20), addi(t0, zero, 11), sw(t0, base, 0x70)};
  for (unsigned q = 0; q < queues; ++q) {
    p += {addi(t0, zero, static_cast<int32_t>(q)), sw(t0, base, 0x30), addi(t0, zero, 16),
          sw(t0, base, 0x38)};
    p += li(t1, rings + q * 0x1000);
    p += {sh(zero, t1, 0x102), sh(zero, t1, 0x202)};  // fresh rings, as a driver would
    p += {sw(t1, base, 0x80),   sw(zero, base, 0x84), addi(t2, t1, 0x100), sw(t2, base, 0x90),
          sw(zero, base, 0x94), addi(t2, t1, 0x200),  sw(t2, base, 0xa0),  sw(zero, base, 0xa4),
          addi(t0, zero, 1),    sw(t0, base, 0x44)};
  }
  p += {addi(t0, zero, 15), sw(t0, base, 0x70)};
  return p;
}

std::vector<uint32_t> hostile_program() {
  constexpr uint64_t kRings = 0x80400000;
  std::vector<uint32_t> init = init_virtio(s0, kRings, 6);
  init += init_virtio(s4, kRings + 0x6000, 1);
  init.push_back(jalr(zero, ra, 0));
  // Trap handler: skip the faulting instruction (all accesses in the loop are 4 bytes).
  const std::vector<uint32_t> handler = {csrr(t0, 0x141), addi(t0, t0, 4), csrw(0x141, t0), sret()};

  // Publishes a random head (0..15) in the available ring at a0 and kicks the queue: the
  // driver side is well-formed, the descriptors it points at are random.
  auto publish = [](int doorbell_base, int queue_reg) {
    return std::vector<uint32_t>{lhu(a1, a0, 0x102), srli(a2, s9, 44),
                                 andi(a2, a2, 15),   andi(a3, a1, 15),
                                 slli(a3, a3, 1),    add(a3, a3, a0),
                                 sh(a2, a3, 0x104),  addi(a1, a1, 1),
                                 sh(a1, a0, 0x102),  sw(queue_reg, doorbell_base, 0x50)};
  };
  std::vector<uint32_t> kick_console = {slli(a0, t2, 12), add(a0, a0, s1)};
  kick_console += publish(s0, t2);
  std::vector<uint32_t> kick_rng = {addi(a0, a5, 0)};
  kick_rng += publish(s4, zero);
  const auto skip = [](const std::vector<uint32_t>& body) {
    return static_cast<int32_t>(4 * (body.size() + 1));
  };

  std::vector<uint32_t> loop = {
      mul(s2, s2, t3), add(s2, s2, t4),
      // xorshift64 in s9 for the values (the LCG's low bits repeat)
      slli(t0, s9, 13), xor_(s9, s9, t0), srli(t0, s9, 7), xor_(s9, s9, t0), slli(t0, s9, 17),
      xor_(s9, s9, t0),
      // a random 8-byte store into one of the descriptor tables:
      // mostly an address into RAM (first half of a descriptor) or
      // small len/flags/next fields (second half), 1 in 16 raw
      srli(t0, s2, 20), and_(t0, t0, s7), addi(t1, s9, 0), andi(t2, s2, 0xf00), beq(t2, zero, 28),
      andi(t2, t0, 8), bne(t2, zero, 20), srli(t1, s9, 12), and_(t1, t1, s5), or_(t1, t1, s1),
      jal(zero, 8), and_(t1, t1, s6), add(t0, t0, s1), sd(t1, t0, 0),
      // publish + kick a random console queue, the rng queue
      srli(t2, s2, 50), andi(t2, t2, 7), andi(t0, s2, 3), bne(t0, zero, skip(kick_console))};
  loop += kick_console;
  loop += {andi(t0, s2, 0xc), bne(t0, zero, skip(kick_rng))};
  loop += kick_rng;
  loop += {// now and then a random register write (status resets included)
           andi(t0, s2, 0x3f0), bne(t0, zero, 20), srli(t0, s2, 24), and_(t0, t0, s8),
           add(t0, t0, s0), sw(s2, t0, 0),
           // now and then a raw value over an available ring header
           andi(t0, s2, 0x7f0), bne(t0, zero, 12), add(t0, a0, zero), sw(s2, t0, 0x100),
           // set the devices up again every 2048 rounds
           addi(s3, s3, 1), andi(t0, s3, 0x7ff), bne(t0, zero, 8)};

  std::vector<uint32_t> p;
  p += li(s0, Machine::kVirtioBase);
  p += li(s4, Machine::kVirtioBase + 0x1000);
  p += li(s1, kRings);
  p += li(s2, 0x9e3779b97f4a7c15);
  p += li(s9, 0x2545f4914f6cdd1d);
  p += li(t3, 6364136223846793005u);
  p += li(t4, 1442695040888963407u);
  p += li(s5, 0xffff0);
  p += li(s6, 0x000f000700000fff);  // next < 16, flags < 8, len < 4096
  p += li(s7, 0x70f8);              // queue (bits 12-14) and offset inside its 256-byte table
  p += li(a5, kRings + 0x6000);
  p += li(s8, 0xffc);
  const size_t stvec_at = p.size();
  p += li(t0, 0);  // patched: handler address
  p.push_back(csrw(0x105, t0));
  const size_t call_at = p.size();
  p.push_back(0);  // jal ra, init (patched)
  const size_t loop_at = p.size();
  p += loop;
  p.push_back(0);  // jal ra, init (patched)
  p.push_back(jal(zero, -static_cast<int32_t>(4 * (p.size() - loop_at))));
  const size_t init_at = p.size();
  p += init;
  const size_t handler_at = p.size();
  p += handler;
  p[call_at] = jal(ra, static_cast<int32_t>(4 * (init_at - call_at)));
  p[loop_at + loop.size()] = jal(ra, static_cast<int32_t>(4 * (init_at - loop_at - loop.size())));
  const std::vector<uint32_t> h = li(t0, Machine::kKernelBase + 4 * handler_at);
  std::copy(h.begin(), h.end(), p.begin() + static_cast<std::ptrdiff_t>(stvec_at));
  return p;
}

TEST_F(MachineTest, HostileGuestCannotHurtTheHost) {
  MachineConfig config;
  config.ports = {{"", true}, {"c2w.control", false}};
  boot(hostile_program(), std::move(config));
  std::string out;
  uint64_t output = 0;
  for (int slice = 0; slice < 40; ++slice) {
    const RunResult r = m->run(1'000'000);
    ASSERT_NE(r.stop, Stop::kError) << m->error();
    ASSERT_NE(r.stop, Stop::kHalted);
    out.clear();
    take_all(*m, &out);
    output += out.size();
    for (unsigned p = 0; p < m->num_ports(); ++p)
      m->port_input(p, reinterpret_cast<const uint8_t*>("input"), 5);
    m->console_input(reinterpret_cast<const uint8_t*>("x"), 1);
  }
  EXPECT_GT(m->cpu().x[s3], 10'000u) << "the guest kept running its loop";
  EXPECT_GT(output, 0u) << "some random chains were valid enough to reach the host";
  EXPECT_EQ(m->cpu().priv, c2w::riscv64::Priv::kSupervisor);
  // The battered machine still snapshots and restores.
  const std::vector<uint8_t> snap = m->save();
  std::string err;
  auto again = Machine::restore(snap.data(), snap.size(), host, &err);
  ASSERT_NE(again, nullptr) << err;
  EXPECT_NE(again->run(100'000).stop, Stop::kError);
  std::printf("hostile guest: %llu rounds, %llu bytes of device output\n",
              static_cast<unsigned long long>(m->cpu().x[s3]),
              static_cast<unsigned long long>(output));
}

}  // namespace

namespace {

// A stand-in for a later device (e.g. 9p): it gets its own virtio-mmio slot, a device tree
// node and an interrupt, and restore insists on the same kind of device in that slot.
class Echo : public c2w::virtio::Device {
 public:
  uint32_t device_id() const override { return 9; }
  uint64_t features() const override { return 1; }
  unsigned num_queues() const override { return 1; }
  void reset() override { resets++; }
  void queue_notify(unsigned) override {}
  void save(c2w::emulators::ByteWriter& w) const override { w.u32(resets); }
  bool load(c2w::emulators::ByteReader& r) override {
    resets = r.u32();
    return r.ok();
  }
  uint32_t resets = 0;
};

class Other : public Echo {
 public:
  uint32_t device_id() const override { return 26; }
};

TEST_F(MachineTest, ExtraVirtioDeviceGetsASlot) {
  MachineConfig config;
  auto echo = std::make_unique<Echo>();
  Echo* dev = echo.get();
  config.extra_devices.push_back(std::move(echo));
  boot({wfi()}, std::move(config));
  const uint64_t slot = Machine::kVirtioBase + 2 * 0x1000;  // after console and rng
  uint64_t v = 0;
  ASSERT_TRUE(m->bus().read(slot + 8, 4, &v));
  EXPECT_EQ(v, 9u);
  ASSERT_TRUE(m->bus().write(slot + 0x70, 4, 0));
  EXPECT_EQ(dev->resets, 1u);
  c2w::emulators::Fdt fdt;
  std::string err;
  ASSERT_TRUE(c2w::emulators::fdt_parse(m->fdt().data(), m->fdt().size(), &fdt, &err)) << err;
  const auto* node = fdt.root.child("soc")->child("virtio_mmio@10003000");
  ASSERT_NE(node, nullptr);
  uint32_t irq = 0;
  EXPECT_TRUE(node->prop_u32("interrupts", &irq));
  EXPECT_EQ(irq, 3u);

  const std::vector<uint8_t> snap = m->save();
  EXPECT_EQ(Machine::restore(snap.data(), snap.size(), host, &err), nullptr);
  EXPECT_NE(err.find("extra virtio devices"), std::string::npos) << err;
  std::vector<std::unique_ptr<c2w::virtio::Device>> wrong;
  wrong.push_back(std::make_unique<Other>());
  EXPECT_EQ(Machine::restore(snap.data(), snap.size(), host, &err, std::move(wrong)), nullptr);
  EXPECT_NE(err.find("another kind"), std::string::npos) << err;
  std::vector<std::unique_ptr<c2w::virtio::Device>> right;
  auto again = std::make_unique<Echo>();
  Echo* restored_dev = again.get();
  right.push_back(std::move(again));
  auto r = Machine::restore(snap.data(), snap.size(), host, &err, std::move(right));
  ASSERT_NE(r, nullptr) << err;
  EXPECT_EQ(restored_dev->resets, 1u) << "device state comes back";
}

// A minimal virtio-blk driver over the machine's bus, as a guest would program the device:
// rings and buffers in guest RAM at kRings, one read request per call.
class BusBlkDriver {
 public:
  static constexpr uint64_t kRings = 0x80800000, kHdr = kRings + 0x1000, kData = kRings + 0x2000;
  static constexpr uint64_t kStatus = kRings + 0x4000;
  static constexpr uint16_t kSize = 8;
  BusBlkDriver(Machine& m, uint64_t slot) : m_(m), slot_(slot) {}

  void set(uint64_t off, uint32_t v) { EXPECT_TRUE(m_.bus().write(slot_ + off, 4, v)) << off; }
  uint64_t get(uint64_t off, unsigned size = 4) {
    uint64_t v = 0;
    EXPECT_TRUE(m_.bus().read(slot_ + off, size, &v)) << off;
    return v;
  }
  void init() {
    set(0x70, 0);
    set(0x70, 3);
    set(0x24, 1);
    set(0x20, 1);  // VERSION_1
    set(0x70, 11);
    set(0x30, 0);
    set(0x38, kSize);
    set(0x80, static_cast<uint32_t>(kRings));
    set(0x90, static_cast<uint32_t>(kRings + 0x100));
    set(0xa0, static_cast<uint32_t>(kRings + 0x200));
    set(0x44, 1);
    set(0x70, 15);
  }
  // Reads `len` bytes at `sector` into kData; returns the status byte.
  uint8_t read(uint64_t sector, uint32_t len) {
    uint8_t* ram = m_.bus().ram();
    auto at = [&](uint64_t pa) { return ram + (pa - 0x80000000); };
    const uint32_t type = c2w::virtio::Blk::kIn, zero = 0;
    std::memcpy(at(kHdr), &type, 4);
    std::memcpy(at(kHdr + 4), &zero, 4);
    std::memcpy(at(kHdr + 8), &sector, 8);
    *at(kStatus) = 0xee;
    desc(0, kHdr, 16, 1, 1);
    desc(1, kData, len, 1 | 2, 2);
    desc(2, kStatus, 1, 2, 0);
    uint16_t avail_idx;
    std::memcpy(&avail_idx, at(kRings + 0x102), 2);
    const uint16_t head = 0;
    std::memcpy(at(kRings + 0x104 + 2 * (avail_idx % kSize)), &head, 2);
    ++avail_idx;
    std::memcpy(at(kRings + 0x102), &avail_idx, 2);
    set(0x50, 0);
    uint16_t used_idx;
    std::memcpy(&used_idx, at(kRings + 0x202), 2);
    EXPECT_EQ(used_idx, avail_idx) << "the request was answered";
    return *at(kStatus);
  }
  const uint8_t* data() { return m_.bus().ram() + (kData - 0x80000000); }

 private:
  void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    uint8_t* p = m_.bus().ram() + (kRings + 16 * i - 0x80000000);
    std::memcpy(p, &addr, 8);
    std::memcpy(p + 8, &len, 4);
    std::memcpy(p + 12, &flags, 2);
    std::memcpy(p + 14, &next, 2);
  }
  Machine& m_;
  uint64_t slot_;
};

TEST_F(MachineTest, DiskIsAVirtioBlkSlotAndRestoresOnlyOntoItsSize) {
  std::vector<uint8_t> bytes((1 << 20) + 100);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 13 + (i >> 12));
  c2w::emulators::MemorySource disk(bytes.data(), bytes.size());
  MachineConfig config;
  config.disk = &disk;
  config.extra_devices.push_back(std::make_unique<Echo>());
  boot({wfi()}, std::move(config));
  // Slots: console, rng, the disk, then the extra device.
  const uint64_t slot = Machine::kVirtioBase + 2 * 0x1000;
  BusBlkDriver drv(*m, slot);
  EXPECT_EQ(drv.get(0x008), 2u) << "virtio-blk";
  EXPECT_EQ(drv.get(0x100, 8), 257u * 8) << "capacity: 257 blocks of 4 KiB";
  uint64_t v = 0;
  ASSERT_TRUE(m->bus().read(slot + 0x1000 + 8, 4, &v));
  EXPECT_EQ(v, 9u) << "the extra device comes after the disk";
  c2w::emulators::Fdt fdt;
  std::string err;
  ASSERT_TRUE(c2w::emulators::fdt_parse(m->fdt().data(), m->fdt().size(), &fdt, &err)) << err;
  const auto* node = fdt.root.child("soc")->child("virtio_mmio@10003000");
  ASSERT_NE(node, nullptr);
  uint32_t irq = 0;
  EXPECT_TRUE(node->prop_u32("interrupts", &irq));
  EXPECT_EQ(irq, 3u);
  ASSERT_NE(fdt.root.child("soc")->child("virtio_mmio@10004000"), nullptr);

  drv.init();
  ASSERT_EQ(drv.read(8, 4096), c2w::virtio::Blk::kOk);
  EXPECT_EQ(0, std::memcmp(drv.data(), bytes.data() + 4096, 4096));
  EXPECT_EQ(m->disk_errors(), 0u);

  const std::vector<uint8_t> snap = m->save();
  auto extra = [] {
    std::vector<std::unique_ptr<c2w::virtio::Device>> e;
    e.push_back(std::make_unique<Echo>());
    return e;
  };
  EXPECT_EQ(Machine::restore(snap.data(), snap.size(), host, &err, extra()), nullptr);
  EXPECT_NE(err.find("has a disk"), std::string::npos) << err;
  c2w::emulators::MemorySource shorter(bytes.data(), bytes.size() - 1);
  EXPECT_EQ(Machine::restore(snap.data(), snap.size(), host, &err, extra(), nullptr, &shorter),
            nullptr);
  EXPECT_NE(err.find("disk is 1048676 bytes"), std::string::npos) << err;
  // The same disk attached again: the restored machine continues the queue where it was.
  c2w::emulators::MemorySource same(bytes.data(), bytes.size());
  auto r = Machine::restore(snap.data(), snap.size(), host, &err, extra(), nullptr, &same);
  ASSERT_NE(r, nullptr) << err;
  BusBlkDriver again(*r, slot);
  ASSERT_EQ(again.read(2048, 4096), c2w::virtio::Blk::kOk);
  EXPECT_EQ(0, std::memcmp(again.data(), bytes.data() + (1 << 20), 100));
  for (int i = 100; i < 4096; ++i) ASSERT_EQ(again.data()[i], 0) << "past the end: zeros";
  EXPECT_EQ(again.read(2056, 512), c2w::virtio::Blk::kIoErr) << "past the capacity";

  // A machine without a disk does not take one at restore.
  boot({wfi()});
  const std::vector<uint8_t> plain = m->save();
  EXPECT_EQ(Machine::restore(plain.data(), plain.size(), host, &err, {}, nullptr, &same), nullptr);
  EXPECT_NE(err.find("has no disk"), std::string::npos) << err;
  EXPECT_NE(Machine::restore(plain.data(), plain.size(), host, &err), nullptr) << err;
}

}  // namespace
