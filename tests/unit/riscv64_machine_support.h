// Test harness for the riscv64 machine: a deterministic Host (the clock moves only when a test
// moves it), S-mode test programs assembled with tests/riscv64/rvasm.h and loaded as the
// "kernel", and a run loop that advances the clock through idle periods.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "emulators/common/host.h"
#include "emulators/riscv64/machine.h"
#include "tests/riscv64/rvasm.h"

namespace machinetest {

using c2w::riscv64::Machine;
using c2w::riscv64::MachineConfig;
using c2w::riscv64::RunResult;
using c2w::riscv64::Stop;
using namespace rvasm;

using namespace rvasm::regs;  // zero, ra, sp, t0, a0, ...

class FakeHost : public c2w::emulators::Host {
 public:
  uint64_t monotonic_ns() override { return now; }
  int64_t realtime_ns() override { return 1'700'000'000'000'000'000 + static_cast<int64_t>(now); }
  void random(uint8_t* buf, uint32_t len) override {
    for (uint32_t i = 0; i < len; ++i)
      buf[i] = static_cast<uint8_t>(seed = seed * 1103515245 + 12345);
  }
  uint64_t now = 5'000'000'000;
  uint32_t seed = 1;
};

// x[rd] = v (any 64-bit constant): 9 bits, then five 11-bit chunks.
inline std::vector<uint32_t> li(int rd, uint64_t v) {
  std::vector<uint32_t> out = {addi(rd, zero, static_cast<int32_t>(v >> 55))};
  for (int shift = 44; shift >= 0; shift -= 11) {
    out.push_back(slli(rd, rd, 11));
    out.push_back(ori(rd, rd, static_cast<int32_t>((v >> shift) & 0x7ff)));
  }
  return out;
}

inline std::vector<uint32_t> operator+(std::vector<uint32_t> a, const std::vector<uint32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline std::vector<uint32_t>& operator+=(std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// An SBI call: a7 = eid, a6 = fid, a0..a2 = args.
inline std::vector<uint32_t> sbi(uint64_t eid, uint64_t fid, uint64_t x0 = 0, uint64_t x1 = 0,
                                 uint64_t x2 = 0) {
  std::vector<uint32_t> c;
  c += li(a7, eid);
  c += li(a6, fid);
  c += li(a0, x0);
  c += li(a1, x1);
  c += li(a2, x2);
  c.push_back(ecall());
  return c;
}

inline constexpr uint64_t kSrst = 0x53525354;
// SBI system reset (shutdown) with the given reason: ends every test program.
inline std::vector<uint32_t> shutdown(uint64_t reason = 0) {
  return sbi(kSrst, 0, 0, reason);
}

inline std::vector<uint8_t> to_bytes(const std::vector<uint32_t>& code) {
  std::vector<uint8_t> b(code.size() * 4);
  std::memcpy(b.data(), code.data(), b.size());
  return b;
}

class MachineTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kResults = 0x80100000;  // below the kernel, inside RAM

  std::unique_ptr<Machine> make(const std::vector<uint32_t>& code, MachineConfig config = {}) {
    config.kernel = to_bytes(code);
    if (config.ram_size == (256 << 20)) config.ram_size = 32 << 20;
    std::string err;
    auto made = Machine::create(std::move(config), host, &err);
    EXPECT_NE(made, nullptr) << err;
    return made;
  }
  void boot(const std::vector<uint32_t>& code, MachineConfig config = {}) {
    m = make(code, std::move(config));
  }

  // Runs until the machine halts (advancing the clock through idle periods) or the budget ends.
  RunResult run_to_end(Machine& mach, uint64_t budget = 10'000'000) {
    RunResult r;
    const uint64_t start = mach.cpu().cycle;
    while (mach.cpu().cycle - start < budget) {
      r = mach.run(budget - (mach.cpu().cycle - start));
      if (r.stop == Stop::kHalted || r.stop == Stop::kError || r.stop == Stop::kMarker) break;
      if (r.stop == Stop::kIdle) {
        if (r.deadline_ns == UINT64_MAX) break;
        if (r.deadline_ns > host.now) host.now = r.deadline_ns;
      }
    }
    return r;
  }
  RunResult run_to_end(uint64_t budget = 10'000'000) { return run_to_end(*m, budget); }

  uint64_t result(unsigned i) {
    uint64_t v;
    std::memcpy(&v, m->bus().ram_ptr(kResults + 8 * i, 8), 8);
    return v;
  }

  FakeHost host;
  std::unique_ptr<Machine> m;
};

}  // namespace machinetest
