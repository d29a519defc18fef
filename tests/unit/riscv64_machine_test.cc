// The riscv64 machine: boot hand-off, SBI calls made by S-mode test programs, timers and idle,
// the generated device tree, and the PLIC.
#include <fstream>

#include "emulators/common/fdt.h"
#include "emulators/riscv64/goldfish_rtc.h"
#include "emulators/riscv64/plic.h"
#include "tests/support/process.h"
#include "tests/unit/riscv64_machine_support.h"

namespace {

using namespace machinetest;
using c2w::riscv64::Cpu;
using c2w::riscv64::Plic;
using c2w::riscv64::Priv;

constexpr uint64_t kBase = 0x10, kTime = 0x54494D45, kIpi = 0x735049, kRfence = 0x52464E43,
                   kHsm = 0x48534D, kDbcn = 0x4442434E;

// Stores a0 and a1 to result slots 2i and 2i+1 (s0 holds kResults).
std::vector<uint32_t> keep(unsigned i) {
  return {sd(a0, s0, static_cast<int32_t>(16 * i)), sd(a1, s0, static_cast<int32_t>(16 * i + 8))};
}

TEST_F(MachineTest, HandOffLikeFwDynamic) {
  boot({wfi()});
  Cpu& c = m->cpu();
  EXPECT_EQ(c.priv, Priv::kSupervisor);
  EXPECT_EQ(c.pc, Machine::kKernelBase);
  EXPECT_EQ(c.x[10], 0u);
  EXPECT_EQ(c.x[11], m->fdt_address());
  EXPECT_EQ(std::memcmp(m->bus().ram_ptr(m->fdt_address(), 4), "\xd0\x0d\xfe\xed", 4), 0);
  EXPECT_EQ(c.satp, 0u);
  EXPECT_EQ(c.mideleg, 0x222u);
  EXPECT_EQ(c.medeleg & (1 << 9), 0u) << "S ecalls come to the SBI";
  EXPECT_NE(c.medeleg & (1 << 8), 0u);
  EXPECT_NE(c.medeleg & (1 << 13), 0u);
  EXPECT_EQ(c.scounteren & 2, 2u);
  EXPECT_EQ(c.mcounteren & 7, 7u);
  EXPECT_EQ(c.menvcfg >> 63, 1u) << "Sstc enabled";
  EXPECT_TRUE(c.host_is_machine_mode);
}

TEST_F(MachineTest, SbiBaseHsmIpiRfence) {
  std::vector<uint32_t> p = li(s0, kResults);
  p += sbi(kBase, 0), p += keep(0);           // spec version
  p += sbi(kBase, 1), p += keep(1);           // impl id
  p += sbi(kBase, 3, kTime), p += keep(2);    // probe TIME
  p += sbi(kBase, 3, 0x12345), p += keep(3);  // probe unknown
  p += sbi(0x12345, 0), p += keep(4);         // unknown extension
  p += sbi(kHsm, 2, 0), p += keep(5);         // hart 0 status
  p += sbi(kHsm, 2, 1), p += keep(6);         // hart 1 status
  p += sbi(kHsm, 0, 0), p += keep(7);         // start hart 0
  p += sbi(kRfence, 1, 1, 0, 0), p += keep(8);
  p += sbi(kRfence, 1, 2, 0, 0), p += keep(9);  // hart 1 does not exist
  p += sbi(kIpi, 0, 1, 0), p += keep(10);
  p.push_back(csrr(a0, 0x144)), p += keep(11);  // sip
  p += sbi(kBase, 3, kDbcn), p += keep(12);
  p += shutdown();
  boot(p);
  EXPECT_EQ(run_to_end().stop, Stop::kHalted);
  EXPECT_EQ(m->exit_status(), 0);
  EXPECT_FALSE(m->rebooted());
  EXPECT_EQ(result(0), 0u);
  EXPECT_EQ(result(1), uint64_t{2} << 24) << "SBI 2.0";
  EXPECT_EQ(result(3), 0x6332u);
  EXPECT_EQ(result(5), 1u);
  EXPECT_EQ(result(7), 0u);
  EXPECT_EQ(result(8), static_cast<uint64_t>(-2)) << "NOT_SUPPORTED";
  EXPECT_EQ(result(10), 0u);
  EXPECT_EQ(result(11), 0u) << "STARTED";
  EXPECT_EQ(result(12), static_cast<uint64_t>(-3));
  EXPECT_EQ(result(14), static_cast<uint64_t>(-6)) << "ALREADY_AVAILABLE";
  EXPECT_EQ(result(16), 0u);
  EXPECT_EQ(result(18), static_cast<uint64_t>(-3));
  EXPECT_EQ(result(20), 0u);
  EXPECT_EQ(result(22) & 2, 2u) << "IPI sets SSIP";
  EXPECT_EQ(result(25), 1u);
}

TEST_F(MachineTest, SbiConsoleLegacyAndDbcn) {
  constexpr uint64_t kText = 0x80180000;
  std::vector<uint32_t> p = li(s0, kResults);
  p += sbi(1, 0, 'h'), p += sbi(1, 0, 'i');            // legacy putchar
  p += sbi(kDbcn, 0, 6, kText, 0), p += keep(0);       // write "hello\n"
  p += sbi(kDbcn, 0, 6, 0x1000, 0), p += keep(1);      // outside RAM
  p += sbi(kDbcn, 0, 6, kText, 1), p += keep(2);       // base_hi set
  p += sbi(kDbcn, 2, '!'), p += keep(3);               // write byte
  p += sbi(2, 0), p.push_back(sd(a0, s0, 64));         // legacy getchar
  p += sbi(kDbcn, 1, 8, kText + 64, 0), p += keep(5);  // read the rest
  p += sbi(2, 0), p.push_back(sd(a0, s0, 96));         // nothing left: -1
  p += shutdown();
  boot(p);
  std::memcpy(m->bus().ram_ptr(kText, 6), "hello\n", 6);
  m->console_input(reinterpret_cast<const uint8_t*>("xyz"), 3);
  EXPECT_EQ(run_to_end().stop, Stop::kHalted);
  EXPECT_EQ(m->take_console_output(), "hihello\n!");
  EXPECT_EQ(result(0), 0u);
  EXPECT_EQ(result(1), 6u);
  EXPECT_EQ(result(2), static_cast<uint64_t>(-3));
  EXPECT_EQ(result(4), static_cast<uint64_t>(-3));
  EXPECT_EQ(result(6), 0u);
  EXPECT_EQ(result(8), static_cast<uint64_t>('x'));
  EXPECT_EQ(result(10), 0u);
  EXPECT_EQ(result(11), 2u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(m->bus().ram_ptr(kText + 64, 2)), 2), "yz");
  EXPECT_EQ(result(12), static_cast<uint64_t>(-1));
}

TEST_F(MachineTest, ShutdownAndRebootStatus) {
  boot(shutdown(1));
  EXPECT_EQ(run_to_end().stop, Stop::kHalted);
  EXPECT_EQ(m->exit_status(), 1) << "system failure";
  boot(sbi(kSrst, 0, 0, 0xF0000000 + 42));
  run_to_end();
  EXPECT_EQ(m->exit_status(), 42) << "vendor reason carries a status";
  boot(sbi(kSrst, 0, 1, 0));
  run_to_end();
  EXPECT_TRUE(m->halted());
  EXPECT_TRUE(m->rebooted());
  boot(sbi(8, 0));  // legacy shutdown
  EXPECT_EQ(run_to_end().stop, Stop::kHalted);
  EXPECT_EQ(m->exit_status(), 0);
  // An invalid reset type is refused and the program goes on.
  boot(sbi(kSrst, 0, 7, 0) + std::vector<uint32_t>{addi(s1, a0, 0)} + shutdown(0));
  run_to_end();
  EXPECT_EQ(static_cast<int64_t>(m->cpu().x[s1]), -3);
}

// Both timer paths (SBI set_timer and the Sstc stimecmp CSR): WFI makes run() return kIdle with
// the deadline of the timer, and once the clock reaches it the interrupt is taken.
void timer_program(std::vector<uint32_t>& p, bool use_sstc, uint64_t delta) {
  // stvec -> handler at the end (patched below); enable STIE and SIE.
  p += li(s0, 0x80100000);
  p += li(t0, 1 << 5);
  p.push_back(csrrs(zero, 0x104, t0));
  p.push_back(csrr(s1, 0xc01));  // rdtime
  p += li(t1, delta);
  p.push_back(add(s1, s1, t1));
  if (use_sstc) {
    p.push_back(csrw(0x14d, s1));
  } else {
    p += li(a7, kTime);
    p += li(a6, 0);
    p.push_back(addi(a0, s1, 0));
    p.push_back(ecall());
  }
  p += li(t0, 2);
  p.push_back(csrrs(zero, 0x100, t0));  // sstatus.SIE
  p.push_back(wfi());
  p.push_back(jal(zero, -4));  // back to wfi if woken without a trap
}

TEST_F(MachineTest, TimerWakesWfiAtTheDeadline) {
  for (bool sstc : {false, true}) {
    std::vector<uint32_t> p;
    timer_program(p, sstc, 1000);
    const uint64_t handler = Machine::kKernelBase + 4 * (p.size() + li(t0, 0).size() + 1);
    std::vector<uint32_t> setup = li(t0, handler);
    setup.push_back(csrw(0x105, t0));
    std::vector<uint32_t> code = setup;
    code += p;
    // handler: store scause, shut down.
    code.push_back(csrr(a0, 0x142));
    code.push_back(sd(a0, s0, 0));
    code += shutdown();
    ASSERT_EQ(Machine::kKernelBase + 4 * (setup.size() + p.size()), handler);
    boot(code);
    const RunResult r = m->run(1'000'000);
    ASSERT_EQ(r.stop, Stop::kIdle) << "sstc=" << sstc;
    // The deadline is 1000 ticks of 100 ns after the rdtime (the clock did not move).
    EXPECT_EQ(r.deadline_ns, host.now + 1000 * 100);
    EXPECT_EQ(m->run(1'000'000).stop, Stop::kIdle) << "still idle: nothing changed";
    host.now = r.deadline_ns - 100;
    EXPECT_EQ(m->run(1'000'000).stop, Stop::kIdle);
    host.now = r.deadline_ns;
    EXPECT_EQ(run_to_end().stop, Stop::kHalted);
    EXPECT_EQ(result(0), uint64_t{1} << 63 | 5) << "supervisor timer interrupt";
  }
}

TEST_F(MachineTest, NoTimerMeansNoDeadline) {
  boot({wfi(), jal(zero, -4)});
  const RunResult r = m->run(1000);
  EXPECT_EQ(r.stop, Stop::kIdle);
  EXPECT_EQ(r.deadline_ns, UINT64_MAX);
}

TEST_F(MachineTest, UserModeReadsTime) {
  // S: stvec = handler, sret to U code that reads time and ecalls; the handler stores a0.
  std::vector<uint32_t> code = li(s0, kResults);
  const size_t u_at = code.size() + 2 * li(t0, 0).size() + 4, handler_at = u_at + 2;
  code += li(t0, Machine::kKernelBase + 4 * handler_at);
  code.push_back(csrw(0x105, t0));
  code += li(t0, Machine::kKernelBase + 4 * u_at);
  code.push_back(csrw(0x141, t0));  // sepc
  code.push_back(csrrc(zero, 0x100, zero));
  code.push_back(sret());  // SPP is 0: to U
  ASSERT_EQ(code.size(), u_at);
  code.push_back(csrr(a0, 0xc01));
  code.push_back(ecall());
  ASSERT_EQ(code.size(), handler_at);
  code.push_back(csrr(a1, 0x142));
  code += keep(0);
  code += shutdown();
  host.now += 123'456'700;
  boot(code);
  host.now += 1000;
  EXPECT_EQ(run_to_end().stop, Stop::kHalted);
  EXPECT_EQ(result(1), 8u) << "ecall from U, not an illegal instruction";
  EXPECT_EQ(result(0), 10u) << "1000 ns after boot";
}

TEST_F(MachineTest, DeviceTreeDescribesTheMachine) {
  MachineConfig config;
  config.ram_size = 64 << 20;
  config.bootargs = "console=hvc0 earlycon=sbi";
  config.initrd.assign(100000, 0x5a);
  boot({wfi()}, std::move(config));
  c2w::emulators::Fdt fdt;
  std::string err;
  ASSERT_TRUE(c2w::emulators::fdt_parse(m->fdt().data(), m->fdt().size(), &fdt, &err)) << err;
  const auto* chosen = fdt.root.child("chosen");
  ASSERT_NE(chosen, nullptr);
  EXPECT_EQ(chosen->prop_str("bootargs"), "console=hvc0 earlycon=sbi");
  uint64_t start = 0, end = 0;
  ASSERT_TRUE(chosen->prop_u64("linux,initrd-start", &start));
  ASSERT_TRUE(chosen->prop_u64("linux,initrd-end", &end));
  EXPECT_EQ(end - start, 100000u);
  EXPECT_EQ(start % 4096, 0u);
  EXPECT_LE(end, m->fdt_address());
  EXPECT_EQ(m->bus().ram_ptr(start, 1)[0], 0x5a);
  EXPECT_EQ(m->bus().ram_ptr(end - 1, 1)[0], 0x5a);
  const auto* mem = fdt.root.child("memory@80000000");
  ASSERT_NE(mem, nullptr);
  const auto* reg = mem->prop("reg");
  ASSERT_NE(reg, nullptr);
  ASSERT_EQ(reg->size(), 16u);
  EXPECT_EQ((*reg)[12], 0x04) << "64 MiB";
  const auto* cpus = fdt.root.child("cpus");
  ASSERT_NE(cpus, nullptr);
  uint32_t tb = 0;
  EXPECT_TRUE(cpus->prop_u32("timebase-frequency", &tb));
  EXPECT_EQ(tb, 10'000'000u);
  ASSERT_NE(cpus->child("cpu@0"), nullptr);
  EXPECT_EQ(cpus->child("cpu@0")->prop_str("riscv,isa"), "rv64imafdc_zicsr_zifencei_sstc");
  const auto* soc = fdt.root.child("soc");
  ASSERT_NE(soc, nullptr);
  EXPECT_NE(soc->child("plic@c000000"), nullptr);
  EXPECT_NE(soc->child("rtc@101000"), nullptr);
  EXPECT_NE(soc->child("virtio_mmio@10001000"), nullptr) << "console";
  EXPECT_NE(soc->child("virtio_mmio@10002000"), nullptr) << "rng";
  EXPECT_EQ(soc->child("virtio_mmio@10003000"), nullptr);

  // dtc decodes it and finds nothing to warn about.
  const std::string path = ::testing::TempDir() + "/c2w_machine.dtb";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(m->fdt().data()),
             static_cast<std::streamsize>(m->fdt().size()));
  const auto r =
      c2w::testing::run_command({"dtc", "-I", "dtb", "-O", "dts", "-o", "/dev/null", path});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "dtc warnings";
}

TEST_F(MachineTest, RefusesImagesThatDoNotFit) {
  MachineConfig config;
  config.ram_size = 16 << 20;
  config.kernel.assign(15 << 20, 0);
  std::string err;
  EXPECT_EQ(Machine::create(std::move(config), host, &err), nullptr);
  EXPECT_NE(err.find("does not fit"), std::string::npos) << err;
  MachineConfig c2;
  c2.ram_size = 16 << 20;
  c2.kernel.assign(4096, 0);
  c2.initrd.assign(14 << 20, 1);
  EXPECT_EQ(Machine::create(std::move(c2), host, &err), nullptr);
  EXPECT_NE(err.find("initrd"), std::string::npos) << err;
}

// ---- PLIC ----

class PlicTest : public ::testing::Test {
 protected:
  PlicTest() : plic([this](unsigned c, bool l) { line[c] = l; }) {}
  uint32_t rd(uint64_t off) {
    uint64_t v = 0;
    EXPECT_TRUE(plic.read(off, 4, &v));
    return static_cast<uint32_t>(v);
  }
  void wr(uint64_t off, uint32_t v) { EXPECT_TRUE(plic.write(off, 4, v)); }
  static constexpr uint64_t kEnable1 = 0x2080, kThreshold1 = 0x201000, kClaim1 = 0x201004;
  bool line[2] = {};
  Plic plic;
};

TEST_F(PlicTest, ClaimCompleteLevelTriggered) {
  plic.set_level(3, true);
  EXPECT_FALSE(line[1]) << "priority 0 never interrupts";
  wr(4 * 3, 1);
  EXPECT_FALSE(line[1]) << "not enabled";
  EXPECT_EQ(rd(0x1000), 1u << 3) << "pending";
  wr(kEnable1, 1 << 3);
  EXPECT_TRUE(line[1]);
  EXPECT_FALSE(line[0]) << "the M context has nothing enabled";
  EXPECT_EQ(rd(kClaim1), 3u);
  EXPECT_FALSE(line[1]) << "claimed";
  EXPECT_EQ(rd(kClaim1), 0u) << "nothing else pending";
  wr(kClaim1, 3);  // complete while the line is still high: pending again
  EXPECT_TRUE(line[1]);
  EXPECT_EQ(rd(kClaim1), 3u);
  plic.set_level(3, false);
  wr(kClaim1, 3);
  EXPECT_FALSE(line[1]);
  EXPECT_EQ(rd(0x1000), 0u);
}

TEST_F(PlicTest, PriorityAndThreshold) {
  wr(4 * 1, 2);
  wr(4 * 2, 5);
  wr(kEnable1, 0b110);
  plic.set_level(1, true);
  plic.set_level(2, true);
  wr(kThreshold1, 5);
  EXPECT_FALSE(line[1]) << "priority must exceed the threshold";
  wr(kThreshold1, 1);
  EXPECT_TRUE(line[1]);
  EXPECT_EQ(rd(kClaim1), 2u) << "highest priority first";
  EXPECT_EQ(rd(kClaim1), 1u);
  EXPECT_EQ(rd(4 * 2), 5u);
  wr(4 * 2, 0xffff);
  EXPECT_EQ(rd(4 * 2), 7u) << "priority is 3 bits";
}

TEST_F(PlicTest, HostileAccesses) {
  uint64_t v;
  EXPECT_FALSE(plic.read(0x1002, 2, &v));
  EXPECT_FALSE(plic.write(0x4, 8, 1));
  wr(kClaim1, 0);
  wr(kClaim1, 31);
  wr(kClaim1, 0xffffffff);  // completing nonexistent sources changes nothing
  wr(0x3ffffc, 1);
  wr(0x2000 + 0x80 * 100, 0xffffffff);  // context 100 does not exist
  EXPECT_EQ(rd(0x3ffffc), 0u);
  plic.set_level(0, true);
  plic.set_level(1000, true);
  EXPECT_EQ(rd(0x1000), 0u);
}

}  // namespace

namespace {

// ---- goldfish RTC ----

TEST(GoldfishRtc, TimeAlarmAndInterrupt) {
  machinetest::FakeHost host;
  bool irq = false;
  c2w::riscv64::GoldfishRtc rtc(host, [&](bool l) { irq = l; });
  auto rd = [&](uint64_t off) {
    uint64_t v = 0;
    EXPECT_TRUE(rtc.read(off, 4, &v));
    return v;
  };
  const uint64_t t = rd(0x00) | rd(0x04) << 32;
  EXPECT_EQ(t, static_cast<uint64_t>(host.realtime_ns()));
  // Set the guest clock one hour ahead: HIGH is latched until LOW is written.
  const uint64_t ahead = t + 3600'000'000'000;
  ASSERT_TRUE(rtc.write(0x04, 4, ahead >> 32));
  ASSERT_TRUE(rtc.write(0x00, 4, ahead & 0xffffffff));
  host.now += 10;
  EXPECT_EQ(rd(0x00) | rd(0x04) << 32, ahead + 10);
  // An alarm 1 ms from now fires once the clock gets there.
  const uint64_t alarm = ahead + 10 + 1'000'000;
  ASSERT_TRUE(rtc.write(0x10, 4, 1));
  ASSERT_TRUE(rtc.write(0x0c, 4, alarm >> 32));
  ASSERT_TRUE(rtc.write(0x08, 4, alarm & 0xffffffff));
  EXPECT_EQ(rd(0x18), 1u) << "armed";
  EXPECT_EQ(rtc.alarm_deadline_ns(), host.now + 1'000'000);
  rtc.poll();
  EXPECT_FALSE(irq);
  host.now += 1'000'000;
  rtc.poll();
  EXPECT_TRUE(irq);
  EXPECT_EQ(rd(0x18), 0u);
  EXPECT_EQ(rtc.alarm_deadline_ns(), UINT64_MAX);
  ASSERT_TRUE(rtc.write(0x1c, 4, 1));
  EXPECT_FALSE(irq);
  uint64_t v;
  EXPECT_FALSE(rtc.read(0x02, 2, &v));
}

}  // namespace
