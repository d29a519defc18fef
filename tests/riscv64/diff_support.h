// Runs differential cases (diff_cases.h) on our riscv64 core and compares them with reference
// lines printed by rv64_diff under qemu. Shared by the native gtest and the wasm32 check so
// both builds of the core are held to the same reference.
#pragma once

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "emulators/riscv64/cpu.h"
#include "tests/riscv64/diff_cases.h"

namespace rvdiff {

class CoreRunner {
 public:
  static constexpr uint64_t kBase = c2w::riscv64::Bus::kRamBase;
  static constexpr uint64_t kReturn = kBase;           // holds ebreak: the harness returns here
  static constexpr uint64_t kTrapVec = kBase + 0x100;  // `j .`
  static constexpr uint64_t kCode = kBase + 0x1000;
  static constexpr uint64_t kSlot = kBase + 0x2000;

  CoreRunner()
      : bus_(1 << 20),
        cpu_(
            bus_, [](void*) -> uint64_t { return 0; }, nullptr) {
    put32(kReturn, rvasm::ebreak());
    put32(kTrapVec, rvasm::jal(0, 0));  // park on the trap vector so mcause stays readable
  }

  // Formats the result of one case the way rv64_diff prints it. Returns "" if the core did not
  // come back through the harness (any trap other than the final ebreak).
  std::string run(const Case& c) {
    std::vector<uint32_t> h = harness(c.insn);
    for (size_t i = 0; i < h.size(); ++i) put32(kCode + 4 * i, h[i]);
    Slot s{{c.in[0], c.in[1], c.in[2]}, c.frm, kPresetX, kPresetF, 0};
    std::memcpy(bus_.ram_ptr(kSlot, sizeof s), &s, sizeof s);
    cpu_.priv = c2w::riscv64::Priv::kMachine;
    cpu_.csr_write(0x300, uint64_t{1} << 13);  // mstatus.FS = Initial
    cpu_.csr_write(0x305, kTrapVec);
    cpu_.x[10] = kSlot;
    cpu_.x[1] = kReturn;
    cpu_.pc = kCode;
    cpu_.flush_caches();
    cpu_.run(64);
    if (cpu_.pc != kTrapVec || cpu_.mcause != c2w::riscv64::kBreakpoint || cpu_.mepc != kReturn)
      return "";
    std::memcpy(&s, bus_.ram_ptr(kSlot, sizeof s), sizeof s);
    char line[64];
    std::snprintf(line, sizeof line, "%016" PRIx64 " %016" PRIx64 " %02" PRIx64, s.x_out, s.f_out,
                  s.fflags);
    return line;
  }

 private:
  void put32(uint64_t pa, uint32_t v) { std::memcpy(bus_.ram_ptr(pa, 4), &v, 4); }

  c2w::riscv64::Bus bus_;
  c2w::riscv64::Cpu cpu_;
};

}  // namespace rvdiff
