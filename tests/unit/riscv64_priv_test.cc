// riscv64 core: privileged architecture. Traps (cause, epc, tval), ecall from each mode,
// delegation to S, interrupts and WFI, counter enables, CSR access rules, and Sv39/Sv48 paging
// with hardware A/D updates, superpages, SUM/MXR/MPRV and misaligned accesses across pages.
#include "tests/unit/riscv64_core_support.h"

namespace rv64test {
namespace {

using namespace rvasm;
using c2w::riscv64::Exit;
namespace ms = c2w::riscv64::mstatus;
namespace rv = c2w::riscv64;

constexpr uint64_t kIrq = uint64_t{1} << 63;

class Riscv64Priv : public Machine {
 protected:
  // Places code at kCode (ending in ebreak), enters `p` there and runs until M takes a trap.
  uint64_t run_in(Priv p, const std::vector<uint32_t>& code) {
    put32(place(kCode, code), ebreak());
    enter(p, kCode);
    EXPECT_TRUE(run_until()) << "stuck at pc " << std::hex << cpu.pc;
    return cpu.mcause;
  }
};

TEST_F(Riscv64Priv, IllegalInstructionReportsBitsAndPc) {
  EXPECT_EQ(run_code({addi(a0, zero, 1), 0xffffffff}), rv::kIllegal);
  EXPECT_EQ(cpu.mepc, kCode + 4);
  EXPECT_EQ(cpu.mtval, 0xffffffffu);
  EXPECT_EQ(cpu.priv, Priv::kMachine);
}

TEST_F(Riscv64Priv, EcallFromEachModeHasItsOwnCause) {
  EXPECT_EQ(run_in(Priv::kMachine, {ecall()}), rv::kEcallM);
  EXPECT_EQ(cpu.mepc, kCode);
  EXPECT_EQ(run_in(Priv::kSupervisor, {ecall()}), rv::kEcallS);
  EXPECT_EQ((cpu.mstatus & ms::kMPP) >> 11, 1u);
  EXPECT_EQ(run_in(Priv::kUser, {ecall()}), rv::kEcallU);
  EXPECT_EQ((cpu.mstatus & ms::kMPP) >> 11, 0u);
  EXPECT_EQ(cpu.mepc, kCode);
}

TEST_F(Riscv64Priv, DelegatedExceptionsGoToSupervisor) {
  ASSERT_TRUE(cpu.csr_write(kMedeleg, ~uint64_t{0}));
  uint64_t deleg;
  ASSERT_TRUE(cpu.csr_read(kMedeleg, &deleg));
  EXPECT_EQ(deleg & (1 << rv::kEcallM), 0u) << "ecall from M must not be delegable";
  cpu.csr_write(kMedeleg, 1 << rv::kEcallU);
  cpu.mstatus |= ms::kSIE;
  put32(kCode, ecall());
  enter(Priv::kUser, kCode);
  ASSERT_TRUE(run_until(kStrap));
  EXPECT_EQ(cpu.priv, Priv::kSupervisor);
  EXPECT_EQ(cpu.scause, uint64_t{rv::kEcallU});
  EXPECT_EQ(cpu.sepc, kCode);
  EXPECT_EQ(cpu.mstatus & ms::kSPP, 0u);
  EXPECT_NE(cpu.mstatus & ms::kSPIE, 0u);
  EXPECT_EQ(cpu.mstatus & ms::kSIE, 0u);
  // An exception in M is never delegated, whatever medeleg says.
  cpu.csr_write(kMedeleg, 1 << rv::kIllegal);
  EXPECT_EQ(run_in(Priv::kMachine, {0xffffffff}), rv::kIllegal);
  // sret returns to SPP with SIE = SPIE.
  cpu.csr_write(kMedeleg, 0);
  cpu.sepc = kCode + 0x40;
  cpu.mstatus = (cpu.mstatus | ms::kSPIE | ms::kSPP) & ~ms::kSIE;
  put32(kCode + 0x40, ecall());
  EXPECT_EQ(run_in(Priv::kSupervisor, {sret()}), rv::kEcallS);
  EXPECT_EQ(cpu.mepc, kCode + 0x40);
}

TEST_F(Riscv64Priv, MachineTimerInterruptIsTakenOnlyWhenEnabled) {
  cpu.mtimecmp = 100;
  now = 200;
  const std::vector<uint32_t> nops = {addi(a0, a0, 1), addi(a0, a0, 1), addi(a0, a0, 1)};
  EXPECT_EQ(run_in(Priv::kMachine, nops), rv::kBreakpoint) << "taken with MTIE clear";
  cpu.mie = 1 << rv::kMTI;
  cpu.mstatus &= ~ms::kMIE;
  EXPECT_EQ(run_in(Priv::kMachine, nops), rv::kBreakpoint) << "taken in M with MIE clear";
  // Lower privilege: M interrupts are enabled regardless of MIE. Vectored mtvec.
  place(kMtrap + 4 * rv::kMTI, {jal(0, 0)});
  cpu.mtvec = kMtrap | 1;
  place(kCode, nops);
  enter(Priv::kUser, kCode);
  ASSERT_TRUE(run_until(kMtrap + 4 * rv::kMTI));
  EXPECT_EQ(cpu.mcause, kIrq | rv::kMTI);
  EXPECT_EQ(cpu.mepc, kCode);
  EXPECT_EQ(cpu.priv, Priv::kMachine);
  // Cleared by moving mtimecmp past the clock.
  cpu.mtimecmp = 1000;
  cpu.mtvec = kMtrap;
  cpu.mstatus |= ms::kMIE;
  EXPECT_EQ(run_in(Priv::kMachine, nops), rv::kBreakpoint);
}

TEST_F(Riscv64Priv, SupervisorTimerThroughSstcIsDelegated) {
  cpu.csr_write(kMenvcfg, uint64_t{1} << 63);  // STCE
  cpu.csr_write(kMideleg, 1 << rv::kSTI);
  cpu.csr_write(kMcounteren, 2);
  cpu.mie = 1 << rv::kSTI;
  now = 50;
  const std::vector<uint32_t> nops = {addi(a0, a0, 1), addi(a0, a0, 1)};
  // S-mode writes stimecmp into the past; SIE clear keeps it pending, not taken.
  cpu.x[a1] = 10;
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrw(kStimecmp, a1), addi(a0, a0, 1)}), rv::kBreakpoint);
  EXPECT_NE(cpu.mip & (1 << rv::kSTI), 0u);
  uint64_t sip;
  cpu.priv = Priv::kSupervisor;
  ASSERT_TRUE(cpu.csr_read(kSip, &sip));
  EXPECT_EQ(sip, uint64_t{1} << rv::kSTI);
  // In M it is never taken, even with SIE set.
  cpu.mstatus |= ms::kSIE;
  EXPECT_EQ(run_in(Priv::kMachine, nops), rv::kBreakpoint);
  // From U it is taken into S.
  place(kCode, nops);
  enter(Priv::kUser, kCode);
  ASSERT_TRUE(run_until(kStrap));
  EXPECT_EQ(cpu.scause, kIrq | rv::kSTI);
  EXPECT_EQ(cpu.priv, Priv::kSupervisor);
  // Without STCE, S-mode access to stimecmp is illegal.
  cpu.mie = 0;
  cpu.priv = Priv::kMachine;
  ASSERT_TRUE(cpu.csr_write(kMenvcfg, 0));
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrr(a0, kStimecmp)}), rv::kIllegal);
}

TEST_F(Riscv64Priv, WfiReturnsToTheHostUntilAnInterruptIsPending) {
  cpu.mie = 1 << rv::kMTI;
  cpu.mstatus &= ~ms::kMIE;
  cpu.mtimecmp = 1000;
  put32(place(kCode, {wfi(), addi(a0, zero, 7)}), ebreak());
  cpu.pc = kCode;
  cpu.flush_caches();
  EXPECT_EQ(cpu.run(100), Exit::kWfi);
  EXPECT_EQ(cpu.pc, kCode + 4);
  EXPECT_EQ(cpu.next_timer_event(), 1000u);
  EXPECT_EQ(cpu.run(100), Exit::kWfi) << "woke up without an interrupt";
  now = 1000;  // pending but globally disabled in M: WFI resumes without a trap
  EXPECT_TRUE(run_until());
  EXPECT_EQ(cpu.mcause, uint64_t{rv::kBreakpoint});
  EXPECT_EQ(cpu.x[a0], 7u);
  cpu.mie = 0;
  EXPECT_EQ(run_in(Priv::kUser, {wfi()}), rv::kIllegal);
  cpu.mstatus |= ms::kTW;
  EXPECT_EQ(run_in(Priv::kSupervisor, {wfi()}), rv::kIllegal);
}

TEST_F(Riscv64Priv, CounterAccessFollowsMcounterenAndScounteren) {
  now = 12345;
  cpu.mcounteren = 0, cpu.scounteren = 0;
  EXPECT_EQ(run_in(Priv::kUser, {csrr(a0, kTime)}), rv::kIllegal);
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrr(a0, kTime)}), rv::kIllegal);
  cpu.mcounteren = 2;  // TM
  EXPECT_EQ(run_in(Priv::kUser, {csrr(a0, kTime)}), rv::kIllegal);
  cpu.x[a0] = 0;
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrr(a0, kTime)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 12345u);
  cpu.scounteren = 2;
  cpu.x[a0] = 0;
  EXPECT_EQ(run_in(Priv::kUser, {csrr(a0, kTime)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 12345u);
  EXPECT_EQ(run_in(Priv::kUser, {csrr(a0, kCycle)}), rv::kIllegal);
  EXPECT_EQ(run_in(Priv::kUser, {csrr(a0, kInstret)}), rv::kIllegal);
  cpu.mcounteren = cpu.scounteren = 7;
  EXPECT_EQ(run_in(Priv::kUser,
                   {csrr(a0, kInstret), addi(zero, zero, 0), csrr(a1, kInstret), csrr(a2, kCycle)}),
            rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a1] - cpu.x[a0], 2u);
  EXPECT_NE(cpu.x[a2], 0u);
}

TEST_F(Riscv64Priv, CsrAccessRules) {
  // Unimplemented CSRs (debug/trigger, mtime is not a CSR, odd pmpcfg on RV64, mseccfg, seed).
  for (uint32_t csr : {0x7a0u, 0xb01u, 0x3a1u, 0x747u, 0x7b0u, 0x015u, 0x5a8u}) {
    SCOPED_TRACE(csr);
    EXPECT_EQ(run_in(Priv::kMachine, {csrr(a0, csr)}), rv::kIllegal);
  }
  EXPECT_EQ(run_in(Priv::kMachine, {csrr(a0, kMhartid), csrr(a1, kMconfigptr), csrr(a2, kMisa)}),
            rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a2], 0x800000000014112Du);  // RV64 IMAFDC SU
  EXPECT_EQ(run_in(Priv::kMachine, {csrw(kMhartid, a0)}), rv::kIllegal) << "write to read-only";
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrr(a0, kMstatus)}), rv::kIllegal);
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrr(a0, kSstatus)}), rv::kBreakpoint);
  EXPECT_EQ(run_in(Priv::kUser, {csrr(a0, kSstatus)}), rv::kIllegal);
  // TVM traps satp and sfence.vma in S; TSR traps sret.
  cpu.mstatus |= ms::kTVM | ms::kTSR;
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrr(a0, kSatp)}), rv::kIllegal);
  EXPECT_EQ(run_in(Priv::kSupervisor, {sfence_vma(0, 0)}), rv::kIllegal);
  EXPECT_EQ(run_in(Priv::kSupervisor, {sret()}), rv::kIllegal);
  cpu.mstatus &= ~(ms::kTVM | ms::kTSR);
  EXPECT_EQ(run_in(Priv::kUser, {sret()}), rv::kIllegal);
  EXPECT_EQ(run_in(Priv::kSupervisor, {mret()}), rv::kIllegal);
  // PMP registers are accepted; menvcfg keeps only implemented bits.
  cpu.x[a1] = 0x1f, cpu.x[a2] = 0x3fffffffffffff, cpu.x[a3] = ~uint64_t{0};
  EXPECT_EQ(run_in(Priv::kMachine, {csrw(0x3a0, a1), csrw(0x3b0, a2), csrr(a4, 0x3a0),
                                    csrr(a5, 0x3b0), csrw(kMenvcfg, a3), csrr(t0, kMenvcfg)}),
            rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a4], 0x1fu);
  EXPECT_EQ(cpu.x[a5], 0x3fffffffffffffu);
  EXPECT_EQ(cpu.x[t0], (uint64_t{1} << 63) | 1);
  // WARL fields: satp with an unsupported mode is ignored; MPP=2 keeps the old value.
  cpu.x[a1] = uint64_t{10} << 60 | 0x1234;
  EXPECT_EQ(run_in(Priv::kMachine, {csrw(kSatp, a1), csrr(a0, kSatp)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 0u);
  cpu.mstatus = (cpu.mstatus & ~ms::kMPP) | uint64_t{1} << 11;
  ASSERT_TRUE(cpu.csr_write(kMstatus, uint64_t{2} << 11));
  EXPECT_EQ(cpu.mstatus & ms::kMPP, uint64_t{1} << 11);
}

class ExitOnWrite : public rv::Device {
 public:
  explicit ExitOnWrite(Cpu& c) : cpu_(c) {}
  bool read(uint64_t, unsigned, uint64_t* v) override { return *v = 0, true; }
  bool write(uint64_t, unsigned, uint64_t v) override {
    if (v == 1) cpu_.request_exit();
    if (v == 2) cpu_.set_irq(rv::kSEI, true);
    return true;
  }

 private:
  Cpu& cpu_;
};

TEST_F(Riscv64Priv, DevicesCanStopTheRunLoopAndRaiseExternalInterrupts) {
  ExitOnWrite dev(cpu);
  ASSERT_TRUE(bus.add_device(0x10000000, 0x1000, &dev));
  cpu.x[a1] = 0x10000000, cpu.x[a2] = 1, cpu.x[a3] = 2;
  place(kCode, {sw(a2, a1, 0), addi(a0, zero, 5), addi(a0, a0, 1), jal(0, 0)});
  cpu.pc = kCode;
  cpu.flush_caches();
  EXPECT_EQ(cpu.run(1000), Exit::kHostEvent);
  EXPECT_LT(cpu.instret, 1000u) << "the run loop did not stop soon after request_exit()";
  EXPECT_EQ(cpu.run(1000), Exit::kBudget);
  EXPECT_EQ(cpu.x[a0], 6u);
  // An external interrupt raised by a device, delegated to S and taken through a vectored stvec.
  cpu.csr_write(kMideleg, 1 << rv::kSEI);
  cpu.mie = 1 << rv::kSEI;
  cpu.mstatus |= ms::kSIE;
  cpu.stvec = kStrap | 1;
  place(kStrap + 4 * rv::kSEI, {jal(0, 0)});
  place(kCode, {sw(a3, a1, 0), addi(a0, zero, 9), jal(0, 0)});
  enter(Priv::kSupervisor, kCode);
  ASSERT_TRUE(run_until(kStrap + 4 * rv::kSEI));
  EXPECT_EQ(cpu.scause, kIrq | rv::kSEI);
  EXPECT_EQ(cpu.sepc, kCode + 4) << "the interrupt is taken before the next instruction";
  EXPECT_EQ(cpu.x[a0], 6u);
}

TEST_F(Riscv64Priv, StoresToCodeAreSeenByLaterFetches) {
  // The second instruction is overwritten (addi a0, zero, 1 -> addi a0, zero, 2) before it runs.
  cpu.x[a1] = kCode + 8;
  cpu.x[a2] = addi(a0, zero, 2);
  place(kCode, {sw(a2, a1, 0), fence_i(), addi(a0, zero, 1), ebreak()});
  // Warm the decode cache with the old instruction first.
  EXPECT_EQ(run_code({addi(a0, zero, 1)}), rv::kBreakpoint);
  place(kCode, {sw(a2, a1, 0), fence_i(), addi(a0, zero, 1), ebreak()});
  cpu.pc = kCode;
  ASSERT_TRUE(run_until());
  EXPECT_EQ(cpu.x[a0], 2u);
}

TEST_F(Riscv64Priv, HostCanPlayMachineModeForSbiCalls) {
  cpu.host_is_machine_mode = true;
  cpu.csr_write(kMedeleg, 1 << rv::kEcallU);
  place(kCode, {addi(17, zero, 0x10), ecall(), addi(a0, a0, 1), jal(0, 0)});
  enter(Priv::kSupervisor, kCode);
  EXPECT_EQ(cpu.run(1000), Exit::kMachineTrap);
  EXPECT_EQ(cpu.machine_trap.cause, uint64_t{rv::kEcallS});
  EXPECT_EQ(cpu.machine_trap.epc, kCode + 4);
  EXPECT_EQ(cpu.pc, kCode + 4);
  EXPECT_EQ(cpu.priv, Priv::kSupervisor);
  EXPECT_EQ(cpu.x[17], 0x10u);
  cpu.x[a0] = 41;  // the host's SBI answer
  cpu.pc += 4;
  EXPECT_EQ(cpu.run(1000), Exit::kBudget);
  EXPECT_EQ(cpu.x[a0], 42u);
  // Traps delegated to S still go to S.
  place(kCode, {ecall()});
  enter(Priv::kUser, kCode);
  EXPECT_TRUE(run_until(kStrap));
  EXPECT_EQ(cpu.scause, uint64_t{rv::kEcallU});
}

TEST_F(Riscv64Priv, SupervisorViewsAreMasksOfMachineRegisters) {
  cpu.mstatus = ms::kMIE | ms::kTVM | uint64_t{3} << 11;
  cpu.x[a1] = ~uint64_t{0};
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrw(kSstatus, a1), csrr(a0, kSstatus)}), rv::kBreakpoint);
  const uint64_t s_bits = ms::kSIE | ms::kSPIE | ms::kSPP | ms::kFS | ms::kSUM | ms::kMXR;
  EXPECT_EQ(cpu.x[a0], s_bits | ms::kSD | uint64_t{2} << 32) << "UXL reads as 64-bit";
  EXPECT_NE(cpu.mstatus & ms::kTVM, 0u) << "sstatus wrote an M-only bit";
  // sie/sip show only delegated interrupts; without delegation writes are ignored.
  cpu.mie = 0, cpu.mip = 0;
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrw(kSie, a1), csrw(kSip, a1), csrr(a0, kSie)}),
            rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 0u);
  EXPECT_EQ(cpu.mie, 0u);
  cpu.csr_write(kMideleg, ~uint64_t{0});
  cpu.mstatus &= ~ms::kSIE;  // or the SSIP written below is taken at once
  EXPECT_EQ(cpu.mideleg, uint64_t{1 << rv::kSSI | 1 << rv::kSTI | 1 << rv::kSEI});
  EXPECT_EQ(run_in(Priv::kSupervisor, {csrw(kSie, a1), csrr(a0, kSie), csrw(kSip, a1)}),
            rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], cpu.mideleg);
  EXPECT_EQ(cpu.mie, cpu.mideleg);
  EXPECT_EQ(cpu.mip, uint64_t{1} << rv::kSSI) << "only SSIP is writable through sip";
}

TEST_F(Riscv64Priv, InterruptPriorityAndSoftwareInterrupts) {
  // MEI beats MTI; both beat S-level ones.
  cpu.mtimecmp = 0;
  cpu.set_irq(rv::kMEI, true);
  cpu.set_irq(rv::kSEI, true);
  cpu.mie = 1 << rv::kMEI | 1 << rv::kMTI | 1 << rv::kSEI;
  place(kCode, {addi(a0, a0, 1)});
  enter(Priv::kUser, kCode);
  ASSERT_TRUE(run_until());
  EXPECT_EQ(cpu.mcause, kIrq | rv::kMEI);
  cpu.set_irq(rv::kMEI, false);
  enter(Priv::kUser, kCode);
  ASSERT_TRUE(run_until());
  EXPECT_EQ(cpu.mcause, kIrq | rv::kMTI);
  cpu.mtimecmp = ~uint64_t{0};
  enter(Priv::kUser, kCode);
  ASSERT_TRUE(run_until());
  EXPECT_EQ(cpu.mcause, kIrq | rv::kSEI) << "undelegated S interrupt goes to M";
  cpu.set_irq(rv::kSEI, false);
  // A supervisor software interrupt posted through sip and taken when S re-enables SIE.
  cpu.csr_write(kMideleg, 1 << rv::kSSI);
  cpu.mie = 1 << rv::kSSI;
  cpu.mstatus &= ~ms::kSIE;
  cpu.x[a1] = 1 << rv::kSSI;
  cpu.x[a2] = ms::kSIE;
  place(kCode, {csrrs(0, kSip, a1), addi(a0, zero, 3), csrrs(0, kSstatus, a2), addi(a0, zero, 4)});
  enter(Priv::kSupervisor, kCode);
  ASSERT_TRUE(run_until(kStrap));
  EXPECT_EQ(cpu.scause, kIrq | rv::kSSI);
  EXPECT_EQ(cpu.sepc, kCode + 12);
  EXPECT_EQ(cpu.x[a0], 3u);
  EXPECT_NE(cpu.mstatus & ms::kSPP, 0u);
}

// ---- paging ----

constexpr uint64_t V = 1, R = 2, W = 4, X = 8, U = 16, A = 64, D = 128;

class Riscv64Paging : public Riscv64Priv {
 protected:
  static constexpr uint64_t kTables = kBase + 0x100000;

  Riscv64Paging() {
    root_ = alloc();
    // Identity gigapage over RAM so S-mode code and its trap vector keep running.
    map(kBase, kBase, V | R | W | X | A | D, 2);
  }

  uint64_t alloc() {
    uint64_t t = next_;
    next_ += 4096;
    std::memset(bus.ram_ptr(t, 4096), 0, 4096);
    return t;
  }
  // Maps va at `level` (0: 4 KiB, 1: 2 MiB, 2: 1 GiB); returns the PTE's physical address.
  uint64_t map(uint64_t va, uint64_t pa, uint64_t flags, int level, int levels = 3) {
    uint64_t table = levels == 3 ? root_ : root48_;
    for (int i = levels - 1; i > level; --i) {
      const uint64_t slot = table + ((va >> (12 + 9 * i)) & 511) * 8;
      uint64_t pte = get64(slot);
      if (!(pte & V)) {
        const uint64_t t = alloc();
        put64(slot, (t >> 12) << 10 | V);
        table = t;
      } else {
        table = (pte >> 10) << 12;
      }
    }
    const uint64_t slot = table + ((va >> (12 + 9 * level)) & 511) * 8;
    put64(slot, (pa >> 12) << 10 | flags);
    return slot;
  }
  void enable_sv39() {
    cpu.satp = uint64_t{8} << 60 | root_ >> 12;
    cpu.flush_caches();
  }

  uint64_t next_ = kTables;
  uint64_t root_ = 0, root48_ = 0;
};

TEST_F(Riscv64Paging, WalkerSetsAccessedAndDirty) {
  const uint64_t va = 0x40000000, pa = kBase + 0x200000;
  const uint64_t pte = map(va, pa, V | R | W, 0);
  put64(pa + 8, 0x1122334455667788);
  enable_sv39();
  cpu.x[a1] = va;
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 8)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 0x1122334455667788u);
  EXPECT_EQ(get64(pte) & (A | D), A);
  EXPECT_EQ(run_in(Priv::kSupervisor, {sd(a1, a1, 16)}), rv::kBreakpoint);
  EXPECT_EQ(get64(pte) & (A | D), A | D);
  EXPECT_EQ(get64(pa + 16), va);
}

TEST_F(Riscv64Paging, PageFaultsCarryTheFaultingAddress) {
  map(0x40000000, kBase + 0x200000, V | R | A, 0);  // read-only
  enable_sv39();
  cpu.x[a1] = 0x40001000;  // unmapped
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 8)}), rv::kLoadPageFault);
  EXPECT_EQ(cpu.mtval, 0x40001008u);
  EXPECT_EQ(cpu.mepc, kCode);
  cpu.x[a1] = 0x40000000;
  EXPECT_EQ(run_in(Priv::kSupervisor, {sw(a0, a1, 4)}), rv::kStorePageFault);
  EXPECT_EQ(cpu.mtval, 0x40000004u);
  EXPECT_EQ(run_in(Priv::kSupervisor, {jalr(0, a1, 0)}), rv::kInstPageFault);
  EXPECT_EQ(cpu.mtval, 0x40000000u);
  EXPECT_EQ(cpu.mepc, 0x40000000u);
  cpu.x[a1] = uint64_t{1} << 38;  // not sign-extended from bit 38
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 0)}), rv::kLoadPageFault);
  EXPECT_EQ(cpu.mtval, uint64_t{1} << 38);
  // AMOs need write permission and report store/AMO faults.
  cpu.x[a1] = 0x40000000;
  EXPECT_EQ(run_in(Priv::kSupervisor, {amo(kAmoAdd, true, a0, a1, a2)}), rv::kStorePageFault);
  // Delegated, the same fault lands in S with stval.
  cpu.csr_write(kMedeleg, 1 << rv::kLoadPageFault);
  cpu.x[a1] = 0x40005000;
  put32(place(kCode, {ld(a0, a1, 0)}), ebreak());
  enter(Priv::kSupervisor, kCode);
  ASSERT_TRUE(run_until(kStrap));
  EXPECT_EQ(cpu.scause, uint64_t{rv::kLoadPageFault});
  EXPECT_EQ(cpu.stval, 0x40005000u);
}

TEST_F(Riscv64Paging, SuperpagesAndTheirAlignment) {
  const uint64_t pa2m = kBase + 0x400000;
  map(0x40200000, pa2m, V | R | W | A | D, 1);
  map(0x40400000, pa2m + 0x1000, V | R | W | A | D, 1);  // misaligned 2 MiB leaf
  put64(pa2m + 0x12340, 0xabcdef);
  enable_sv39();
  cpu.x[a1] = 0x40212340;
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 0)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 0xabcdefu);
  cpu.x[a1] = 0x40400000;
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 0)}), rv::kLoadPageFault);
}

TEST_F(Riscv64Paging, SumMxrAndUserPages) {
  const uint64_t upage = 0x40000000, xpage = 0x40001000, kpage = 0x40002000;
  map(upage, kBase + 0x200000, V | R | W | X | U | A | D, 0);
  map(xpage, kBase + 0x201000, V | X | A, 0);
  map(kpage, kBase + 0x202000, V | R | W | A | D, 0);
  map(0x40003000, kBase + 0x203000, V | W | A | D, 0);  // W without R: reserved
  put32(kBase + 0x200000, ebreak());
  enable_sv39();
  cpu.x[a1] = upage, cpu.x[a2] = xpage, cpu.x[a3] = kpage, cpu.x[a4] = 0x40003000;
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 0)}), rv::kLoadPageFault) << "U page without SUM";
  cpu.mstatus |= ms::kSUM;
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 0)}), rv::kBreakpoint) << "U page with SUM";
  EXPECT_EQ(run_in(Priv::kSupervisor, {jalr(0, a1, 0)}), rv::kInstPageFault) << "S executes U page";
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a2, 0)}), rv::kLoadPageFault) << "X-only without MXR";
  cpu.mstatus |= ms::kMXR;
  cpu.flush_caches();
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a2, 0)}), rv::kBreakpoint) << "X-only with MXR";
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a4, 0)}), rv::kLoadPageFault) << "W without R";
  // U-mode: runs on its own page, may not touch the S page.
  put32(kBase + 0x200000, ld(a0, a3, 0));
  enter(Priv::kUser, upage);
  ASSERT_TRUE(run_until());
  EXPECT_EQ(cpu.mcause, uint64_t{rv::kLoadPageFault});
  EXPECT_EQ(cpu.mtval, kpage);
  EXPECT_EQ(cpu.mepc, upage);
}

TEST_F(Riscv64Paging, SfenceVmaMakesNewMappingsVisible) {
  const uint64_t pte = map(0x40000000, kBase + 0x200000, V | R | A, 0);
  put64(kBase + 0x200000, 1);
  put64(kBase + 0x300000, 2);
  enable_sv39();
  cpu.x[a1] = 0x40000000;
  cpu.x[a2] = (kBase + 0x300000) >> 12 << 10 | V | R | A;
  cpu.x[a3] = pte;  // S code rewrites its own PTE through the identity gigapage
  EXPECT_EQ(
      run_in(Priv::kSupervisor, {ld(a0, a1, 0), sd(a2, a3, 0), sfence_vma(a1, 0), ld(a4, a1, 0)}),
      rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 1u);
  EXPECT_EQ(cpu.x[a4], 2u);
}

TEST_F(Riscv64Paging, MisalignedAccessAcrossDiscontiguousPages) {
  map(0x40003000, kBase + 0x250000, V | R | W | A | D, 0);
  map(0x40004000, kBase + 0x240000, V | R | W | A | D, 0);
  put64(kBase + 0x250ff8, 0x8877665544332211);
  put64(kBase + 0x240000, 0xffeeddccbbaa9988);
  enable_sv39();
  cpu.x[a1] = 0x40003ffc;
  cpu.x[a2] = 0x0102030405060708;
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 0), sd(a2, a1, 2)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 0xbbaa998888776655u);
  // sd at 0x40003ffe: bytes 08 07 land at the end of the first page, the rest on the second.
  EXPECT_EQ(get64(kBase + 0x250ff8), 0x0708665544332211u);
  EXPECT_EQ(get64(kBase + 0x240000), 0xffee010203040506u);
  // Into an unmapped page: the fault names the first byte of that page; nothing is written.
  cpu.x[a1] = 0x40004ffd;
  put64(kBase + 0x240ff8, 0);
  EXPECT_EQ(run_in(Priv::kSupervisor, {sd(a2, a1, 0)}), rv::kStorePageFault);
  EXPECT_EQ(cpu.mtval, 0x40005000u);
  EXPECT_EQ(get64(kBase + 0x240ff8), 0u);
}

TEST_F(Riscv64Paging, MprvTranslatesMachineLoads) {
  map(0x40000000, kBase + 0x200000, V | R | W | A | D, 0);
  put64(kBase + 0x200000, 77);
  enable_sv39();
  cpu.mstatus = (cpu.mstatus & ~ms::kMPP) | ms::kMPRV | uint64_t{1} << 11;
  cpu.x[a1] = 0x40000000;
  EXPECT_EQ(run_code({ld(a0, a1, 0)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 77u);
}

TEST_F(Riscv64Paging, Sv48FourLevelWalk) {
  root48_ = alloc();
  map(kBase, kBase, V | R | W | X | A | D, 2, 4);
  const uint64_t va = 0x00007f1234567000;
  map(va, kBase + 0x260000, V | R | A, 0, 4);
  put64(kBase + 0x260008, 4848);
  cpu.satp = uint64_t{9} << 60 | root48_ >> 12;
  cpu.x[a1] = va;
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 8)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 4848u);
  cpu.x[a1] = uint64_t{1} << 47;  // not sign-extended from bit 47
  EXPECT_EQ(run_in(Priv::kSupervisor, {ld(a0, a1, 0)}), rv::kLoadPageFault);
}

}  // namespace
}  // namespace rv64test
