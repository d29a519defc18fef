// The differential test's case table and harness, shared by the riscv64 guest program (run
// under qemu-riscv64-static, which prints reference results) and the native test (which runs
// the same harness on our core and compares). Header-only; deterministic.
//
// Harness ABI: a0 points at a Slot. It loads x5, x6 and f1, f2, f3 from in[0..2], presets x28
// and f4 from x_out/f_out, writes fcsr = frm << 5, runs the one instruction under test (which
// reads x5/x6 or f1/f2/f3 and writes x28 or f4), then stores x28, f4 and fflags back and returns.
#pragma once

#include <cstdint>
#include <vector>

#include "tests/riscv64/rvasm.h"

namespace rvdiff {

struct Slot {
  uint64_t in[3];
  uint64_t frm;
  uint64_t x_out;
  uint64_t f_out;
  uint64_t fflags;
};

struct Case {
  uint32_t insn;
  uint64_t in[3];
  uint8_t frm;
};

inline constexpr uint64_t kPresetX = 0xdeadbeefcafef00d;
inline constexpr uint64_t kPresetF = 0x5555aaaa5555aaaa;
inline constexpr int kX1 = 5, kX2 = 6, kXd = 28, kF1 = 1, kF2 = 2, kF3 = 3, kFd = 4;

inline std::vector<uint32_t> harness(uint32_t insn) {
  using namespace rvasm;
  return {ld(5, 10, 0),    ld(6, 10, 8),    fld(1, 10, 0),  fld(2, 10, 8),
          fld(3, 10, 16),  ld(28, 10, 32),  fld(4, 10, 40), ld(29, 10, 24),
          slli(29, 29, 5), csrw(0x003, 29), insn,           sd(28, 10, 32),
          fsd(4, 10, 40),  csrr(29, 0x001), sd(29, 10, 48), jalr(0, 1, 0)};
}

inline uint64_t box(uint32_t v) {
  return 0xffffffff00000000 | v;
}

struct Rng {
  uint64_t s = 0x9e3779b97f4a7c15;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

// Random binary64 with exponents biased toward the interesting ends (subnormal, huge, near 1).
inline uint64_t random_f64(Rng& r) {
  uint64_t sign = r.next() & (uint64_t{1} << 63);
  uint64_t mant = r.next() & ((uint64_t{1} << 52) - 1);
  switch (r.below(4)) {
    case 0:
      mant &= ~((uint64_t{1} << r.below(52)) - 1);
      break;  // trailing zeros: ties
    case 1:
      mant |= (uint64_t{1} << r.below(52)) - 1;
      break;  // trailing ones
    default:
      break;
  }
  uint64_t e;
  switch (r.below(5)) {
    case 0:
      e = r.below(60);
      break;  // subnormal and tiny normal
    case 1:
      e = 2046 - r.below(60);
      break;  // near overflow
    default:
      e = 1023 - 70 + r.below(140);
      break;
  }
  return sign | e << 52 | mant;
}
inline uint32_t random_f32(Rng& r) {
  uint32_t sign = static_cast<uint32_t>(r.next()) & 0x80000000u;
  uint32_t mant = static_cast<uint32_t>(r.next()) & 0x7fffffu;
  if (r.below(3) == 0) mant &= ~((1u << r.below(23)) - 1);
  uint32_t e;
  switch (r.below(5)) {
    case 0:
      e = static_cast<uint32_t>(r.below(30));
      break;
    case 1:
      e = 254 - static_cast<uint32_t>(r.below(30));
      break;
    default:
      e = 127 - 35 + static_cast<uint32_t>(r.below(70));
      break;
  }
  return sign | e << 23 | mant;
}

inline const std::vector<uint64_t>& int_values() {
  static const std::vector<uint64_t> v = {0,
                                          1,
                                          2,
                                          3,
                                          ~uint64_t{0},
                                          ~uint64_t{1},
                                          uint64_t{1} << 63,
                                          (uint64_t{1} << 63) - 1,
                                          0x80000000,
                                          0x7fffffff,
                                          0xffffffff,
                                          0xffffffff80000000,
                                          31,
                                          32,
                                          63,
                                          64,
                                          65,
                                          0x123456789abcdef0,
                                          0xfedcba9876543210,
                                          0x00000000fffffffe};
  return v;
}

inline const std::vector<uint64_t>& f64_values() {
  static const std::vector<uint64_t> v = {
      0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000,
      0x3ff8000000000000, 0x4004000000000000, 0xc004000000000000, 0x3fe0000000000000,
      0xbfe0000000000000, 0x0000000000000001, 0x000fffffffffffff, 0x0010000000000000,
      0x7fefffffffffffff, 0xffefffffffffffff, 0x7ff0000000000000, 0xfff0000000000000,
      0x7ff8000000000000, 0x7ff4000000000000, 0xfff8000000000123, 0x3fd5555555555555,
      0x43e0000000000000, 0xc3e0000000000000, 0x43f0000000000000, 0x41dfffffffc00000,
      0x41efffffffe00000, 0x41e0000000000000, 0xc1e0000000000000, 0x3ff0000000000001,
      0x400921fb54442d18, 0x4330000000000001, 0x36a0000000000000, 0x4010000000000000};
  return v;
}

inline const std::vector<uint64_t>& f32_values() {
  static const std::vector<uint64_t> v = {
      box(0x00000000),
      box(0x80000000),
      box(0x3f800000),
      box(0xbf800000),
      box(0x3fc00000),
      box(0x40200000),
      box(0xc0200000),
      box(0x3f000000),
      box(0xbf000000),
      box(0x00000001),
      box(0x007fffff),
      box(0x00800000),
      box(0x7f7fffff),
      box(0xff7fffff),
      box(0x7f800000),
      box(0xff800000),
      box(0x7fc00000),
      box(0x7fa00000),
      box(0xffc00123),
      box(0x3eaaaaab),
      box(0x5f000000),
      box(0xdf000000),
      box(0x5f800000),
      box(0x4f000000),
      box(0xcf000000),
      box(0x4f800000),
      box(0x3f800001),
      box(0x40490fdb),
      box(0x4b000001),
      box(0x40800000),
      0x000000003f800000 /* not NaN-boxed: reads as canonical NaN */,
      0x7fffffff3f800000};
  return v;
}

inline std::vector<Case> make_cases() {
  using namespace rvasm;
  std::vector<Case> out;
  auto add_case = [&](uint32_t insn, uint64_t a, uint64_t b = 0, uint64_t c = 0, uint8_t frm = 0) {
    out.push_back({insn, {a, b, c}, frm});
  };
  const auto& iv = int_values();
  // Integer register-register ops: every (funct3, funct7) of OP and OP-32 with a meaning.
  struct RR {
    bool w;
    int f3;
    uint32_t f7;
  };
  std::vector<RR> rr;
  for (int f3 = 0; f3 < 8; ++f3) rr.push_back({false, f3, 0}), rr.push_back({false, f3, 1});
  rr.push_back({false, 0, 0x20}), rr.push_back({false, 5, 0x20});
  for (int f3 : {0, 1, 5}) rr.push_back({true, f3, 0});
  for (int f3 : {0, 4, 5, 6, 7}) rr.push_back({true, f3, 1});
  rr.push_back({true, 0, 0x20}), rr.push_back({true, 5, 0x20});
  for (const RR& o : rr) {
    uint32_t insn = o.w ? op32(o.f3, o.f7, kXd, kX1, kX2) : op(o.f3, o.f7, kXd, kX1, kX2);
    for (uint64_t a : iv)
      for (uint64_t b : iv) add_case(insn, a, b);
  }
  // Immediate ops with boundary immediates and shift amounts.
  for (int32_t imm : {0, 1, -1, 2047, -2048, 0x555}) {
    for (uint32_t insn :
         {addi(kXd, kX1, imm), slti(kXd, kX1, imm), sltiu(kXd, kX1, imm), xori(kXd, kX1, imm),
          ori(kXd, kX1, imm), andi(kXd, kX1, imm), addiw(kXd, kX1, imm)})
      for (uint64_t a : iv) add_case(insn, a);
  }
  for (int sh : {0, 1, 31, 32, 63}) {
    for (uint32_t insn : {slli(kXd, kX1, sh), srli(kXd, kX1, sh), srai(kXd, kX1, sh)})
      for (uint64_t a : iv) add_case(insn, a);
    if (sh < 32)
      for (uint32_t insn : {slliw(kXd, kX1, sh), srliw(kXd, kX1, sh), sraiw(kXd, kX1, sh)})
        for (uint64_t a : iv) add_case(insn, a);
  }

  Rng rng;
  for (int fmt = 0; fmt < 2; ++fmt) {
    const auto& fv = fmt ? f64_values() : f32_values();
    auto rnd = [&] { return fmt ? random_f64(rng) : box(random_f32(rng)); };
    // Arithmetic in every static rounding mode, plus the dynamic mode under each frm.
    for (uint32_t f5 : {kFadd, kFsub, kFmul, kFdiv}) {
      for (int rm = 0; rm <= 4; ++rm) {
        const uint32_t insn = fp(f5, fmt, kFd, kF1, kF2, rm);
        for (uint64_t a : fv)
          for (uint64_t b : fv) add_case(insn, a, b);
        for (int i = 0; i < 400; ++i) {
          uint64_t a = rnd(), b = rnd();
          add_case(insn, a, b);
        }
        for (int i = 0; i < 40; ++i) {
          uint64_t a = rnd(), b = rnd();
          add_case(fp(f5, fmt, kFd, kF1, kF2, 7), a, b, 0, static_cast<uint8_t>(rm));
        }
      }
    }
    for (int rm = 0; rm <= 4; ++rm) {
      const uint32_t insn = fp(kFsqrt, fmt, kFd, kF1, 0, rm);
      for (uint64_t a : fv) add_case(insn, a);
      for (int i = 0; i < 300; ++i) add_case(insn, rnd() & ~(uint64_t{1} << (fmt ? 63 : 31)));
    }
    for (int which = 0; which < 4; ++which) {
      for (int rm = 0; rm <= 4; ++rm) {
        const uint32_t insn = fmadd_family(which, fmt, kFd, kF1, kF2, kF3, rm);
        for (size_t i = 0; i < fv.size(); i += 4)
          for (size_t j = 1; j < fv.size(); j += 3)
            for (size_t k = 0; k < fv.size(); k += 4) add_case(insn, fv[i], fv[j], fv[k]);
        for (int i = 0; i < 300; ++i) {
          uint64_t a = rnd(), b = rnd(), c = rnd();
          add_case(insn, a, b, c);
        }
      }
    }
    // Sign injection, min/max and comparisons (funct3 selects the operation).
    for (auto [f5, f3max] : {std::pair<uint32_t, int>{kFsgnj, 2}, {kFminmax, 1}, {kFcmp, 2}}) {
      for (int f3 = 0; f3 <= f3max; ++f3) {
        const bool to_x = f5 == kFcmp;
        const uint32_t insn = fp(f5, fmt, to_x ? kXd : kFd, kF1, kF2, f3);
        for (uint64_t a : fv)
          for (uint64_t b : fv) add_case(insn, a, b);
      }
    }
    for (uint64_t a : fv) {
      add_case(fp(kFmvToX, fmt, kXd, kF1, 0, 1), a);  // fclass
      add_case(fp(kFmvToX, fmt, kXd, kF1, 0, 0), a);  // fmv.x.w / fmv.x.d
    }
    for (uint64_t a : iv) add_case(fp(kFmvFromX, fmt, kFd, kX1, 0, 0), a);
    for (int rm = 0; rm <= 4; ++rm) {
      for (int kind = 0; kind < 4; ++kind) {  // w, wu, l, lu
        const uint32_t to_int = fp(kFcvtToInt, fmt, kXd, kF1, kind, rm);
        for (uint64_t a : fv) add_case(to_int, a);
        for (int i = 0; i < 60; ++i) add_case(to_int, rnd());
        const uint32_t from_int = fp(kFcvtFromInt, fmt, kFd, kX1, kind, rm);
        for (uint64_t a : iv) add_case(from_int, a);
        for (int i = 0; i < 60; ++i) add_case(from_int, rng.next() >> rng.below(64));
      }
      // fcvt.s.d (fmt S, rs2 = 1) and fcvt.d.s (fmt D, rs2 = 0).
      const uint32_t cvt = fp(kFcvtFF, fmt, kFd, kF1, fmt ? 0 : 1, rm);
      const auto& src = fmt ? f32_values() : f64_values();
      for (uint64_t a : src) add_case(cvt, a);
      for (int i = 0; i < 100; ++i) add_case(cvt, fmt ? box(random_f32(rng)) : random_f64(rng));
    }
  }
  return out;
}

}  // namespace rvdiff
