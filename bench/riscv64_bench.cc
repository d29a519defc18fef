// Guest instructions per second of the riscv64 core on small kernels: an integer ALU loop in
// M-mode, a load/store loop in U-mode under Sv39 paging, a double-precision FP loop and a
// compressed-instruction loop. Prints one line per kernel.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "emulators/riscv64/cpu.h"
#include "tests/riscv64/rvasm.h"

namespace {

using namespace rvasm;
using c2w::riscv64::Bus;
using c2w::riscv64::Cpu;
using c2w::riscv64::Priv;

constexpr uint64_t kBase = Bus::kRamBase;
enum : int { t0 = 5, a0 = 10, a1 = 11, a2 = 12, a3 = 13, a4 = 14 };

uint64_t host_clock(void*) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count() /
                               100);
}

struct Bench {
  Bus bus{64 << 20};
  Cpu cpu{bus, host_clock, nullptr};

  void put32(uint64_t pa, uint32_t v) { std::memcpy(bus.ram_ptr(pa, 4), &v, 4); }
  void put16(uint64_t pa, uint16_t v) { std::memcpy(bus.ram_ptr(pa, 2), &v, 2); }
  void put64(uint64_t pa, uint64_t v) { std::memcpy(bus.ram_ptr(pa, 8), &v, 8); }

  void measure(const char* name, uint64_t budget) {
    cpu.flush_caches();
    const auto start = std::chrono::steady_clock::now();
    const uint64_t before = cpu.instret;
    cpu.run(budget);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double n = static_cast<double>(cpu.instret - before);
    std::printf("%-28s %8.1f M instructions/s  (%.0f M in %.2f s)\n", name, n / s / 1e6, n / 1e6,
                s);
  }
};

// An endless loop body ending in a backward branch to `top`.
void place(Bench& b, uint64_t at, const std::vector<uint32_t>& body) {
  for (uint32_t w : body) b.put32(at, w), at += 4;
}

}  // namespace

int main(int argc, char** argv) {
  // Optional argument: run only kernel number argv[1] (0-3).
  const int only = argc > 1 ? std::atoi(argv[1]) : -1;
  const uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100'000'000;
  int kernel = -1;
  if (++kernel, only < 0 || only == kernel) {
    auto bp = std::make_unique<Bench>();  // ~150 KiB of caches: too big for a wasm stack
    Bench& b = *bp;
    place(b, kBase,
          {addi(a0, a0, 1), xori(a1, a0, 0x55), slli(a2, a0, 3), add(a3, a3, a2), sub(a4, a3, a1),
           jal(0, -20)});
    b.cpu.pc = kBase;
    b.measure("integer ALU loop (M, bare)", n);
  }
  if (++kernel, only < 0 || only == kernel) {
    // U-mode under Sv39: a 64 KiB array walked with ld/sd through 4 KiB pages.
    auto bp = std::make_unique<Bench>();  // ~150 KiB of caches: too big for a wasm stack
    Bench& b = *bp;
    const uint64_t root = kBase + 0x100000, l1 = root + 0x1000, l0 = root + 0x2000;
    b.put64(root + 0 * 8, (l1 >> 12) << 10 | 1);
    b.put64(l1 + 0, (l0 >> 12) << 10 | 1);
    for (uint64_t i = 0; i < 32; ++i)  // va 0x0..0x1ffff -> pa base + 0x200000 + ...
      b.put64(l0 + i * 8, ((kBase + 0x200000 + i * 4096) >> 12) << 10 | 0xdf);
    b.cpu.satp = uint64_t{8} << 60 | root >> 12;
    // code at va 0x0 (page 0), data at va 0x10000..0x1ffff
    const uint64_t code_pa = kBase + 0x200000;
    const std::vector<uint32_t> body = {
        lui(a1, 0x10),   addi(t0, a1, 0), lui(a2, 0x10),    add(a2, a2, a1),  ld(a3, t0, 0),
        addi(a3, a3, 1), sd(a3, t0, 0),   addi(t0, t0, 64), bne(t0, a2, -16), jal(0, -32)};
    place(b, code_pa, body);
    b.cpu.priv = Priv::kUser;
    b.cpu.pc = 0;
    b.measure("load/store loop (U, Sv39)", n);
  }
  if (++kernel, only < 0 || only == kernel) {
    auto bp = std::make_unique<Bench>();  // ~150 KiB of caches: too big for a wasm stack
    Bench& b = *bp;
    b.cpu.mstatus |= uint64_t{1} << 13;
    b.cpu.f[1] = 0x3ff0000000000000, b.cpu.f[2] = 0x3ff0000000100000,
    b.cpu.f[3] = 0x3fe0000000000000;
    place(b, kBase,
          {fmadd_family(0, 1, 4, 1, 2, 3, 0), fp(kFadd, 1, 5, 4, 1, 0), fp(kFmul, 1, 6, 5, 2, 0),
           fp(kFdiv, 1, 7, 6, 2, 0), addi(a0, a0, 1), jal(0, -20)});
    b.cpu.pc = kBase;
    b.measure("double FP loop (M, bare)", n / 4);
  }
  if (++kernel, only < 0 || only == kernel) {
    auto bp = std::make_unique<Bench>();  // ~150 KiB of caches: too big for a wasm stack
    Bench& b = *bp;
    uint64_t at = kBase;
    for (uint16_t c : {c_addi(a0, 1), c_mv(a1, a0), c_slli(a1, 3), c_add(a1, a0), c_j(-8)})
      b.put16(at, c), at += 2;
    b.cpu.pc = kBase;
    b.measure("compressed loop (M, bare)", n);
  }
  return 0;
}
