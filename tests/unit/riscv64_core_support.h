// Test fixture for the riscv64 core: 16 MiB of RAM, a manual clock, helpers to place code and
// data and to run until the hart reaches the M-mode trap vector (which parks on `j .`).
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "emulators/riscv64/cpu.h"
#include "tests/riscv64/rvasm.h"

namespace rv64test {

using c2w::riscv64::Bus;
using c2w::riscv64::Cpu;
using c2w::riscv64::Priv;

using namespace rvasm::regs;  // zero, ra, sp, t0, a0, ...

// CSR numbers used in tests.
enum : uint32_t {
  kFflags = 0x001,
  kFrm = 0x002,
  kFcsr = 0x003,
  kSstatus = 0x100,
  kSie = 0x104,
  kStvec = 0x105,
  kScounteren = 0x106,
  kSepc = 0x141,
  kScause = 0x142,
  kStval = 0x143,
  kSip = 0x144,
  kStimecmp = 0x14d,
  kSatp = 0x180,
  kMstatus = 0x300,
  kMisa = 0x301,
  kMedeleg = 0x302,
  kMideleg = 0x303,
  kMie = 0x304,
  kMtvec = 0x305,
  kMcounteren = 0x306,
  kMenvcfg = 0x30a,
  kMepc = 0x341,
  kMcause = 0x342,
  kMtval = 0x343,
  kMip = 0x344,
  kCycle = 0xc00,
  kTime = 0xc01,
  kInstret = 0xc02,
  kMhartid = 0xf14,
  kMconfigptr = 0xf15
};

class Machine : public ::testing::Test {
 protected:
  static constexpr uint64_t kBase = Bus::kRamBase;
  static constexpr uint64_t kMtrap = kBase + 0x100;  // M trap vector: `j .`
  static constexpr uint64_t kStrap = kBase + 0x200;  // S trap vector: `j .`
  static constexpr uint64_t kCode = kBase + 0x1000;
  static constexpr uint64_t kData = kBase + 0x8000;

  Machine() : bus(16 << 20), cpu(bus, &Machine::clock, this) {
    put32(kMtrap, rvasm::jal(0, 0));
    put32(kStrap, rvasm::jal(0, 0));
    cpu.mtvec = kMtrap;
    cpu.stvec = kStrap;
    cpu.pc = kCode;
  }

  static uint64_t clock(void* self) { return static_cast<Machine*>(self)->now; }

  void put16(uint64_t pa, uint16_t v) { std::memcpy(bus.ram_ptr(pa, 2), &v, 2); }
  void put32(uint64_t pa, uint32_t v) { std::memcpy(bus.ram_ptr(pa, 4), &v, 4); }
  void put64(uint64_t pa, uint64_t v) { std::memcpy(bus.ram_ptr(pa, 8), &v, 8); }
  uint64_t get64(uint64_t pa) {
    uint64_t v;
    std::memcpy(&v, bus.ram_ptr(pa, 8), 8);
    return v;
  }
  uint32_t get32(uint64_t pa) {
    uint32_t v;
    std::memcpy(&v, bus.ram_ptr(pa, 4), 4);
    return v;
  }
  // Places 32-bit instructions at pa; returns the address after them.
  uint64_t place(uint64_t pa, const std::vector<uint32_t>& code) {
    for (uint32_t w : code) put32(pa, w), pa += 4;
    return pa;
  }
  // Places a mix of parcels: values < 0x10000 whose low bits are not 11 are 16-bit.
  uint64_t place_mixed(uint64_t pa, const std::vector<uint32_t>& code) {
    for (uint32_t w : code) {
      if ((w & 3) != 3)
        put16(pa, static_cast<uint16_t>(w)), pa += 2;
      else
        put32(pa, w), pa += 4;
    }
    return pa;
  }

  // Runs until the hart is parked at `stop` (default: the M trap vector) or the budget ends.
  bool run_until(uint64_t stop = kMtrap, uint64_t budget = 100000) {
    for (uint64_t i = 0; i < budget; ++i) {
      if (cpu.pc == stop) return true;
      cpu.run(1);
    }
    return cpu.pc == stop;
  }

  // Runs code placed at kCode in the current mode until it traps to M; returns mcause.
  uint64_t run_code(const std::vector<uint32_t>& code) {
    uint64_t end = place(kCode, code);
    put32(end, rvasm::ebreak());
    cpu.pc = kCode;
    cpu.flush_caches();
    EXPECT_TRUE(run_until()) << "stuck at pc " << std::hex << cpu.pc;
    return cpu.mcause;
  }

  // Sets x[rd] to a 64-bit constant: 9 bits, then five 11-bit chunks (ori sign-extends 12).
  static std::vector<uint32_t> li(int rd, uint64_t v) {
    using namespace rvasm;
    std::vector<uint32_t> out = {addi(rd, zero, static_cast<int32_t>(v >> 55))};
    for (int shift = 44; shift >= 0; shift -= 11) {
      out.push_back(slli(rd, rd, 11));
      out.push_back(ori(rd, rd, static_cast<int32_t>((v >> shift) & 0x7ff)));
    }
    return out;
  }

  // Switches to `p` via mret, continuing at the next instruction of the given code.
  void enter(Priv p, uint64_t target) {
    cpu.priv = Priv::kMachine;
    cpu.mstatus = (cpu.mstatus & ~c2w::riscv64::mstatus::kMPP) | uint64_t{static_cast<unsigned>(p)}
                                                                     << 11;
    cpu.mepc = target;
    put32(kBase + 0x300, rvasm::mret());
    cpu.pc = kBase + 0x300;
    cpu.flush_caches();
    cpu.run(1);
  }

  uint64_t now = 0;
  Bus bus;
  Cpu cpu;
};

// Concatenates instruction lists.
inline std::vector<uint32_t> operator+(std::vector<uint32_t> a, const std::vector<uint32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace rv64test
