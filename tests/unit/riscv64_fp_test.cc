// riscv64 core: F and D. NaN-boxing, canonical NaNs, conversions with saturation and every
// rounding mode, fmin/fmax signed zeros and NaN rules, exact fflags, fused multiply-add with one
// rounding, fclass and the FS state field. Values are worked out by hand from IEEE 754 and the
// RISC-V spec (qemu agreement is the differential test's job).
#include <iterator>

#include "emulators/riscv64/softfp.h"
#include "tests/unit/riscv64_core_support.h"

namespace rv64test {
namespace {

using namespace rvasm;
namespace rv = c2w::riscv64;
namespace ms = c2w::riscv64::mstatus;

enum : uint64_t { NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16 };
enum : int { RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4, DYN = 7 };
enum : int { S = 0, Dp = 1 };

constexpr uint64_t box(uint32_t v) {
  return 0xffffffff00000000 | v;
}
constexpr uint64_t kOne = 0x3ff0000000000000, kTwo = 0x4000000000000000;
constexpr uint64_t kQnanD = 0x7ff8000000000000, kQnanS = box(0x7fc00000);

struct Result {
  uint64_t x, f, flags, cause;
};

class Riscv64Fp : public Machine {
 protected:
  Riscv64Fp() { cpu.mstatus |= uint64_t{1} << 13; }  // FS = Initial

  // Runs one instruction with f1..f3 and x5 as sources; rd is x28 or f4.
  Result run1(uint32_t insn, uint64_t f1, uint64_t f2 = 0, uint64_t f3 = 0, uint64_t x5 = 0,
              uint8_t frm = 0) {
    cpu.f[1] = f1, cpu.f[2] = f2, cpu.f[3] = f3, cpu.f[4] = 0x5555aaaa5555aaaa;
    cpu.x[5] = x5, cpu.x[28] = 0xdeadbeef;
    cpu.frm = frm, cpu.fflags = 0;
    const uint64_t cause = run_code({insn});
    return {cpu.x[28], cpu.f[4], cpu.fflags, cause};
  }
  Result op2(uint32_t f5, int fmt, uint64_t a, uint64_t b, int rm = RNE) {
    return run1(fp(f5, fmt, 4, 1, 2, rm), a, b);
  }
  Result to_int(int fmt, int kind, uint64_t a, int rm, uint8_t frm = 0) {
    return run1(fp(kFcvtToInt, fmt, 28, 1, kind, rm), a, 0, 0, 0, frm);
  }
};

TEST_F(Riscv64Fp, SinglesAreNanBoxed) {
  put32(kData, 0x3f800000);
  cpu.x[a1] = kData;
  ASSERT_EQ(run_code({flw(4, a1, 0)}), rv::kBreakpoint);
  EXPECT_EQ(cpu.f[4], box(0x3f800000));
  // An improperly boxed operand reads as the canonical NaN (quiet: no NV).
  Result r = op2(kFadd, S, 0x000000003f800000, box(0x3f800000));
  EXPECT_EQ(r.f, kQnanS);
  EXPECT_EQ(r.flags, 0u);
  r = run1(fp(kFsgnj, S, 4, 1, 2, 1), 0x000000003f800000, box(0x3f800000));  // fsgnjn.s
  EXPECT_EQ(r.f, box(0xffc00000));
  r = run1(fp(kFcvtFF, Dp, 4, 1, 0, RNE), 0x1234567800000000);  // fcvt.d.s
  EXPECT_EQ(r.f, kQnanD);
  // Moves copy raw bits: fmv.x.w sign-extends the low word, no unboxing; fmv.w.x boxes.
  r = run1(fp(kFmvToX, S, 28, 1, 0, 0), 0x1234567880000000);
  EXPECT_EQ(r.x, 0xffffffff80000000u);
  r = run1(fp(kFmvFromX, S, 4, 5, 0, 0), 0, 0, 0, 0x1234567887654321);
  EXPECT_EQ(r.f, box(0x87654321));
  cpu.f[4] = box(0x40490fdb);
  cpu.x[a1] = kData;
  ASSERT_EQ(run_code({fsw(4, a1, 8)}), rv::kBreakpoint);
  EXPECT_EQ(get32(kData + 8), 0x40490fdbu);
}

TEST_F(Riscv64Fp, NanResultsAreCanonicalAndSignallingNansRaiseInvalid) {
  Result r = op2(kFadd, Dp, 0x7ff8000000000123, kOne);
  EXPECT_EQ(r.f, kQnanD);
  EXPECT_EQ(r.flags, 0u);
  r = op2(kFadd, Dp, 0x7ff0000000000001, kOne);
  EXPECT_EQ(r.f, kQnanD);
  EXPECT_EQ(r.flags, NV);
  r = op2(kFmul, S, box(0x7f800001), box(0x3f800000));
  EXPECT_EQ(r.f, kQnanS);
  EXPECT_EQ(r.flags, NV);
  r = op2(kFsub, Dp, 0x7ff0000000000000, 0x7ff0000000000000);  // inf - inf
  EXPECT_EQ(r.f, kQnanD);
  EXPECT_EQ(r.flags, NV);
}

TEST_F(Riscv64Fp, ConversionsToIntegerSaturate) {
  struct C {
    int fmt, kind;  // kind: 0 w, 1 wu, 2 l, 3 lu
    uint64_t in, want, flags;
  };
  const C cases[] = {
      {Dp, 0, 0x4202a05f20000000 /* 1e10 */, 0x7fffffff, NV},
      {Dp, 0, 0xc202a05f20000000 /* -1e10 */, 0xffffffff80000000, NV},
      {Dp, 0, kQnanD, 0x7fffffff, NV},
      {Dp, 0, 0x7ff0000000000000, 0x7fffffff, NV},
      {Dp, 0, 0xfff0000000000000, 0xffffffff80000000, NV},
      {Dp, 1, 0xbff0000000000000 /* -1 */, 0, NV},
      {Dp, 1, 0xbfe0000000000000 /* -0.5 (rtz) */, 0, NX},
      {Dp, 1, 0x41efffffffe00000 /* 2^32-1 */, 0xffffffffffffffff, 0},
      {Dp, 1, 0x41f0000000000000 /* 2^32 */, 0xffffffffffffffff, NV},
      {Dp, 2, 0x43e0000000000000 /* 2^63 */, 0x7fffffffffffffff, NV},
      {Dp, 2, 0xc3e0000000000000 /* -2^63 */, 0x8000000000000000, 0},
      {Dp, 3, kQnanD, 0xffffffffffffffff, NV},
      {Dp, 3, 0x8000000000000000 /* -0 */, 0, 0},
      {Dp, 3, 0x43f0000000000000 /* 2^64 */, 0xffffffffffffffff, NV},
      {S, 0, box(0x4f000000) /* 2^31 */, 0x7fffffff, NV},
      {S, 0, box(0xcf000000) /* -2^31 */, 0xffffffff80000000, 0},
      {S, 3, box(0xff800000) /* -inf */, 0, NV},
  };
  for (const C& c : cases) {
    SCOPED_TRACE(testing::Message() << std::hex << c.in << " kind " << c.kind);
    Result r = to_int(c.fmt, c.kind, c.in, RTZ);
    EXPECT_EQ(r.x, c.want);
    EXPECT_EQ(r.flags, c.flags);
  }
}

TEST_F(Riscv64Fp, RoundingModesInConversions) {
  const int64_t pos[5] = {2, 2, 2, 3, 3}, neg[5] = {-2, -2, -3, -2, -3};  // RNE RTZ RDN RUP RMM
  for (int rm = 0; rm < 5; ++rm) {
    SCOPED_TRACE(rm);
    Result r = to_int(Dp, 2, 0x4004000000000000 /* 2.5 */, rm);
    EXPECT_EQ(r.x, static_cast<uint64_t>(pos[rm]));
    EXPECT_EQ(r.flags, NX);
    r = to_int(Dp, 0, 0xc004000000000000 /* -2.5 */, rm);
    EXPECT_EQ(r.x, static_cast<uint64_t>(neg[rm]));
    r = to_int(Dp, 2, 0x4004000000000000, DYN, static_cast<uint8_t>(rm));
    EXPECT_EQ(r.x, static_cast<uint64_t>(pos[rm])) << "dynamic rounding mode";
  }
  // Reserved rounding modes are illegal, statically or through frm.
  EXPECT_EQ(to_int(Dp, 0, kOne, 5).cause, uint64_t{rv::kIllegal});
  EXPECT_EQ(to_int(Dp, 0, kOne, DYN, 5).cause, uint64_t{rv::kIllegal});
  EXPECT_EQ(op2(kFadd, Dp, kOne, kOne, 6).cause, uint64_t{rv::kIllegal});
  // Narrowing and int-to-float conversions round too.
  Result r = run1(fp(kFcvtFF, S, 4, 1, 1, RNE), 0x3ff0000004000000 /* 1 + 2^-30 */);
  EXPECT_EQ(r.f, box(0x3f800000));
  EXPECT_EQ(r.flags, NX);
  r = run1(fp(kFcvtFF, S, 4, 1, 1, RUP), 0x3ff0000004000000);
  EXPECT_EQ(r.f, box(0x3f800001));
  r = run1(fp(kFcvtFromInt, S, 4, 5, 2, RNE), 0, 0, 0, 16777217);  // fcvt.s.l 2^24 + 1
  EXPECT_EQ(r.f, box(0x4b800000));
  EXPECT_EQ(r.flags, NX);
  r = run1(fp(kFcvtFromInt, S, 4, 5, 2, RUP), 0, 0, 0, 16777217);
  EXPECT_EQ(r.f, box(0x4b800001));
  r = run1(fp(kFcvtFromInt, Dp, 4, 5, 1, RNE), 0, 0, 0, 0xffffffff80000000);  // fcvt.d.wu
  EXPECT_EQ(r.f, 0x41e0000000000000u);                                        // 2^31
  r = run1(fp(kFcvtFF, S, 4, 1, 1, RNE), 0x7fefffffffffffff);                 // overflow to inf
  EXPECT_EQ(r.f, box(0x7f800000));
  EXPECT_EQ(r.flags, OF | NX);
  r = run1(fp(kFcvtFF, S, 4, 1, 1, RTZ), 0x7fefffffffffffff);  // ... or to the largest finite
  EXPECT_EQ(r.f, box(0x7f7fffff));
}

TEST_F(Riscv64Fp, MinMaxSignedZerosAndNans) {
  const uint64_t nz = 0x8000000000000000, pz = 0;
  EXPECT_EQ(op2(kFminmax, Dp, pz, nz, 0).f, nz);
  EXPECT_EQ(op2(kFminmax, Dp, nz, pz, 0).f, nz);
  EXPECT_EQ(op2(kFminmax, Dp, nz, pz, 1).f, pz);
  EXPECT_EQ(op2(kFminmax, Dp, pz, nz, 1).f, pz);
  Result r = op2(kFminmax, Dp, 0x7ff8000000000001, kOne, 0);
  EXPECT_EQ(r.f, kOne);
  EXPECT_EQ(r.flags, 0u);
  r = op2(kFminmax, Dp, 0x7ff0000000000001, kOne, 1);
  EXPECT_EQ(r.f, kOne);
  EXPECT_EQ(r.flags, NV);
  r = op2(kFminmax, Dp, 0x7ff8000000000001, 0xfff8000000000000, 1);
  EXPECT_EQ(r.f, kQnanD);
  EXPECT_EQ(op2(kFminmax, S, box(0x80000000), box(0), 0).f, box(0x80000000));
}

TEST_F(Riscv64Fp, FlagsAreExact) {
  Result r = op2(kFdiv, Dp, kOne, 0);
  EXPECT_EQ(r.f, 0x7ff0000000000000u);
  EXPECT_EQ(r.flags, DZ);
  r = op2(kFdiv, Dp, 0, 0);
  EXPECT_EQ(r.f, kQnanD);
  EXPECT_EQ(r.flags, NV);
  r = op2(kFdiv, Dp, kOne, 0x4008000000000000 /* 3 */);
  EXPECT_EQ(r.f, 0x3fd5555555555555u);
  EXPECT_EQ(r.flags, NX);
  r = op2(kFmul, Dp, 0x7fefffffffffffff, kTwo);
  EXPECT_EQ(r.f, 0x7ff0000000000000u);
  EXPECT_EQ(r.flags, OF | NX);
  r = op2(kFmul, Dp, 0x7fefffffffffffff, kTwo, RTZ);
  EXPECT_EQ(r.f, 0x7fefffffffffffffu);
  r = op2(kFdiv, Dp, 0x0010000000000000, 0x4008000000000000);  // tiny and inexact
  EXPECT_EQ(r.flags, UF | NX);
  r = op2(kFdiv, Dp, 0x0010000000000000, kTwo);  // tiny but exact: no UF
  EXPECT_EQ(r.f, 0x0008000000000000u);
  EXPECT_EQ(r.flags, 0u);
  r = run1(fp(kFsqrt, Dp, 4, 1, 0, RNE), 0xbff0000000000000);
  EXPECT_EQ(r.f, kQnanD);
  EXPECT_EQ(r.flags, NV);
  r = run1(fp(kFsqrt, Dp, 4, 1, 0, RNE), 0x4010000000000000);
  EXPECT_EQ(r.f, kTwo);
  EXPECT_EQ(r.flags, 0u);
  // Quiet compare vs signalling compares.
  r = run1(fp(kFcmp, Dp, 28, 1, 2, 2), kQnanD, kOne);  // feq
  EXPECT_EQ(r.x, 0u);
  EXPECT_EQ(r.flags, 0u);
  r = run1(fp(kFcmp, Dp, 28, 1, 2, 1), kQnanD, kOne);  // flt
  EXPECT_EQ(r.flags, NV);
  r = run1(fp(kFcmp, Dp, 28, 1, 2, 2), 0x7ff0000000000001, kOne);  // feq with sNaN
  EXPECT_EQ(r.flags, NV);
  r = run1(fp(kFcmp, Dp, 28, 1, 2, 0), 0x8000000000000000, 0);  // fle -0, +0
  EXPECT_EQ(r.x, 1u);
  // Flags accumulate; fcsr is frm << 5 | fflags.
  cpu.f[1] = kOne, cpu.f[2] = 0, cpu.f[3] = 0x4008000000000000;
  cpu.fflags = 0;
  cpu.x[a1] = 0x5f;
  ASSERT_EQ(run_code({fp(kFdiv, Dp, 4, 1, 2, RNE), fp(kFdiv, Dp, 4, 1, 3, RNE), csrr(a0, kFflags),
                      csrw(kFcsr, a1), csrr(a2, kFrm), csrr(a3, kFflags)}),
            rv::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], DZ | NX);
  EXPECT_EQ(cpu.x[a2], 2u);
  EXPECT_EQ(cpu.x[a3], 0x1fu);
}

TEST_F(Riscv64Fp, FusedMultiplyAddRoundsOnce) {
  // (1 + 2^-27)(1 - 2^-27) - 1 = -2^-54 exactly; separate rounding of the product gives 0.
  Result r = run1(fmadd_family(0, Dp, 4, 1, 2, 3, RNE), 0x3ff0000002000000, 0x3feffffffc000000,
                  0xbff0000000000000);
  EXPECT_EQ(r.f, 0xbc90000000000000u);
  EXPECT_EQ(r.flags, 0u);
  const uint64_t three = 0x4008000000000000;
  EXPECT_EQ(run1(fmadd_family(1, Dp, 4, 1, 2, 3, RNE), kTwo, three, kOne).f, 0x4014000000000000u);
  EXPECT_EQ(run1(fmadd_family(2, Dp, 4, 1, 2, 3, RNE), kTwo, three, kOne).f, 0xc014000000000000u);
  EXPECT_EQ(run1(fmadd_family(3, Dp, 4, 1, 2, 3, RNE), kTwo, three, kOne).f, 0xc01c000000000000u);
  // inf * 0 + qNaN is invalid in RISC-V.
  r = run1(fmadd_family(0, Dp, 4, 1, 2, 3, RNE), 0x7ff0000000000000, 0, kQnanD);
  EXPECT_EQ(r.f, kQnanD);
  EXPECT_EQ(r.flags, NV);
  // Single precision: 1.5 * 1.5 + 0.25 = 2.5 exactly.
  r = run1(fmadd_family(0, S, 4, 1, 2, 3, RNE), box(0x3fc00000), box(0x3fc00000), box(0x3e800000));
  EXPECT_EQ(r.f, box(0x40200000));
}

// The core computes some operations with host float/double when that provably gives softfp's
// bits and flags (RNE, tame operands, NX already set; exact conversions). Every result here
// must equal softfp's, with fflags starting clear and starting at NX, in several rounding modes
// and across the edges of the host path (exponent limits, zeros, subnormals, NaN, infinity).
TEST_F(Riscv64Fp, HostArithmeticMatchesSoftfp) {
  namespace sf = c2w::riscv64::softfp;
  uint64_t seed = 12345;
  auto rnd = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return seed ^ (seed >> 29);
  };
  auto d_with_exp = [&](int e) {  // a random double with unbiased exponent e
    return (rnd() & 0x800fffffffffffffull) | static_cast<uint64_t>(1023 + e) << 52;
  };
  auto s_with_exp = [&](int e) {
    return (rnd() & 0x807fffffull) | static_cast<uint64_t>(127 + e) << 23;
  };
  const int d_exps[] = {0, 1, -1, 5, -7, 299, 300, 301, -299, -300, -301, 600, -600, 1023, -1022};
  const int s_exps[] = {0, 1, -1, 5, -7, 29, 30, 31, -29, -30, -31, 60, -60, 127, -126};
  auto d_operand = [&]() -> uint64_t {
    switch (rnd() % 10) {
      case 0:
        return (rnd() & 1) << 63;  // signed zero
      case 1:
        return (rnd() & 0x800fffffffffffffull);  // subnormal
      case 2:
        return 0x7ff0000000000000 | (rnd() % 3 == 0 ? rnd() & 0xfffffffffffffull : 0);
      default:
        return d_with_exp(d_exps[rnd() % std::size(d_exps)]);
    }
  };
  auto s_operand = [&]() -> uint64_t {
    switch (rnd() % 10) {
      case 0:
        return (rnd() & 1) << 31;
      case 1:
        return rnd() & 0x807fffffull;
      case 2:
        return 0x7f800000 | (rnd() % 3 == 0 ? rnd() & 0x7fffffull : 0);
      default:
        return s_with_exp(s_exps[rnd() % std::size(s_exps)]);
    }
  };
  const int rms[] = {RNE, DYN, RTZ, RUP};
  int checked = 0;
  for (int i = 0; i < 6000; ++i) {
    const int fmt = i % 2 == 0 ? Dp : S;
    const sf::Format f = fmt == Dp ? sf::kF64 : sf::kF32;
    uint64_t a = fmt == Dp ? d_operand() : s_operand();
    uint64_t b = fmt == Dp ? d_operand() : s_operand();
    uint64_t c = fmt == Dp ? d_operand() : s_operand();
    if (rnd() % 4 == 0) c = fmt == Dp ? d_with_exp(-40) : s_with_exp(-8);  // near cancellation
    if (rnd() % 8 == 0) b = a;
    const int rm = rms[rnd() % std::size(rms)];
    const uint8_t start = rnd() % 3 == 0 ? 0 : static_cast<uint8_t>(NX);
    const int which = static_cast<int>(rnd() % 9);
    const sf::Rm srm = static_cast<sf::Rm>(rm == DYN ? RNE : rm);
    uint8_t fl = 0;
    uint64_t want;
    uint32_t insn;
    if (which < 4) {
      static constexpr uint32_t f5[4] = {kFadd, kFsub, kFmul, kFdiv};
      insn = fp(f5[which], fmt, 4, 1, 2, rm);
      want = which == 0   ? sf::add(f, a, b, srm, &fl)
             : which == 1 ? sf::sub(f, a, b, srm, &fl)
             : which == 2 ? sf::mul(f, a, b, srm, &fl)
                          : sf::div(f, a, b, srm, &fl);
    } else if (which == 4) {
      if (rnd() % 2) a &= fmt == Dp ? ~(uint64_t{1} << 63) : ~uint64_t{0x80000000};
      insn = fp(kFsqrt, fmt, 4, 1, 0, rm);
      want = sf::sqrt(f, a, srm, &fl);
    } else {
      const int k = which - 5;
      insn = fmadd_family(k, fmt, 4, 1, 2, 3, rm);
      want = sf::fma(f, a, b, c, k >= 2, k == 1 || k == 3, srm, &fl);
    }
    if (fmt == S)
      a = box(static_cast<uint32_t>(a)), b = box(static_cast<uint32_t>(b)),
      c = box(static_cast<uint32_t>(c)), want = box(static_cast<uint32_t>(want));
    cpu.f[1] = a, cpu.f[2] = b, cpu.f[3] = c;
    cpu.frm = 0, cpu.fflags = start;
    ASSERT_EQ(run_code({insn}), rv::kBreakpoint);
    ASSERT_EQ(cpu.f[4], want) << "insn " << std::hex << insn << " a " << a << " b " << b << " c "
                              << c << " rm " << rm;
    ASSERT_EQ(cpu.fflags, start | fl)
        << "insn " << std::hex << insn << " a " << a << " b " << b << " c " << c << " rm " << rm;
    ++checked;
  }
  // Conversions: integer -> double (exact below 2^53, rounded above) and truncating
  // double -> integer around the limits of the host path.
  const uint64_t ints[] = {0,
                           1,
                           ~uint64_t{0},
                           uint64_t{1} << 53,
                           (uint64_t{1} << 53) + 1,
                           0 - (uint64_t{1} << 53) - 1,
                           0x7fffffffffffffff,
                           0x8000000000000000,
                           0x80000000,
                           0xffffffff7fffffff,
                           12345678901234567};
  for (uint64_t v : ints) {
    for (int kind : {0, 2}) {  // fcvt.d.w, fcvt.d.l
      uint8_t fl = 0;
      const uint64_t src =
          kind == 0 ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))) : v;
      const uint64_t want = sf::from_int(sf::kF64, src, true, sf::kRne, &fl);
      const Result r = run1(fp(kFcvtFromInt, Dp, 4, 5, kind, RNE), 0, 0, 0, v);
      EXPECT_EQ(r.f, want) << std::hex << v;
      EXPECT_EQ(r.flags, fl) << std::hex << v;
    }
  }
  const uint64_t doubles[] = {0,
                              0x8000000000000000,
                              kOne,
                              0xbfe0000000000000,
                              0x3fe8000000000000,
                              0x43dfffffffffffff,
                              0x43e0000000000000,
                              0xc3e0000000000000,
                              0x41dfffffffc00000,
                              0x41e0000000000000,
                              0xc1e0000000000000,
                              0xc1e0000000200000,
                              0x41dfffffffe00000,
                              0x0000000000000001,
                              0x7ff0000000000000,
                              0x7ff8000000000000,
                              0x4330000000000001};
  for (uint64_t v : doubles) {
    for (int kind : {0, 2}) {  // fcvt.w.d, fcvt.l.d
      for (int rm : {RTZ, RNE}) {
        uint8_t fl = 0;
        const uint64_t want =
            sf::to_int(sf::kF64, v, kind == 0 ? 32 : 64, true, static_cast<sf::Rm>(rm), &fl);
        const Result r = to_int(Dp, kind, v, rm);
        EXPECT_EQ(r.x, want) << std::hex << v;
        EXPECT_EQ(r.flags, fl) << std::hex << v;
      }
    }
  }
  EXPECT_EQ(checked, 6000);
}

TEST_F(Riscv64Fp, FclassCoversEveryClass) {
  const std::pair<uint64_t, uint64_t> d[] = {{0xfff0000000000000, 1 << 0},
                                             {0xbff0000000000000, 1 << 1},
                                             {0x800fffffffffffff, 1 << 2},
                                             {0x8000000000000000, 1 << 3},
                                             {0x0000000000000000, 1 << 4},
                                             {0x0000000000000001, 1 << 5},
                                             {kOne, 1 << 6},
                                             {0x7ff0000000000000, 1 << 7},
                                             {0x7ff4000000000000, 1 << 8},
                                             {kQnanD, 1 << 9}};
  for (auto [in, want] : d)
    EXPECT_EQ(run1(fp(kFmvToX, Dp, 28, 1, 0, 1), in).x, want) << std::hex << in;
  EXPECT_EQ(run1(fp(kFmvToX, S, 28, 1, 0, 1), box(0x7f800001)).x, 1u << 8);
  EXPECT_EQ(run1(fp(kFmvToX, S, 28, 1, 0, 1), 0x3f800000).x, 1u << 9) << "unboxed reads as qNaN";
}

TEST_F(Riscv64Fp, FsOffTrapsAndWritesMakeItDirty) {
  cpu.mstatus &= ~ms::kFS;
  EXPECT_EQ(op2(kFadd, Dp, kOne, kOne).cause, uint64_t{rv::kIllegal});
  EXPECT_EQ(run_code({csrr(a0, kFflags)}), rv::kIllegal);
  cpu.mstatus |= uint64_t{1} << 13;  // Initial
  EXPECT_EQ(op2(kFadd, Dp, kOne, kOne).f, kTwo);
  EXPECT_EQ(cpu.mstatus & ms::kFS, ms::kFS);
  uint64_t v;
  ASSERT_TRUE(cpu.csr_read(kMstatus, &v));
  EXPECT_NE(v & ms::kSD, 0u);
  ASSERT_TRUE(cpu.csr_read(kSstatus, &v));
  EXPECT_NE(v & ms::kSD, 0u);
}

}  // namespace
}  // namespace rv64test
