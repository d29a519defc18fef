// IEEE 754 binary32/binary64 arithmetic in integers, exactly as RISC-V F and D define it: every
// result is correctly rounded in the requested mode and the exception flags (NV, DZ, OF, UF, NX)
// are exact, with tininess detected after rounding. NaN results are the canonical NaN. The same
// code runs natively and in wasm32 (which has no floating-point exception flags), and results
// never depend on the host's floating-point environment, so snapshots stay reproducible.
//
// Values are raw bit patterns: binary32 in the low 32 bits of a uint32_t, binary64 in a uint64_t.
// NaN-boxing belongs to the CPU, not to this layer.
#pragma once

#include <cstdint>

namespace c2w::riscv64::softfp {

enum Rm : uint8_t { kRne = 0, kRtz = 1, kRdn = 2, kRup = 3, kRmm = 4 };
enum Flag : uint8_t { kNX = 1, kUF = 2, kOF = 4, kDZ = 8, kNV = 16 };

struct Format {
  int mbits;  // stored fraction bits
  int ebits;
  int bias;
};
inline constexpr Format kF32{23, 8, 127};
inline constexpr Format kF64{52, 11, 1023};

inline constexpr uint32_t kCanonicalNaN32 = 0x7fc00000;
inline constexpr uint64_t kCanonicalNaN64 = 0x7ff8000000000000;

// Arithmetic. `f` names the format of all operands and of the result. fma computes a*b+c with one
// rounding; the four RISC-V variants negate the product and/or the addend through the flags.
uint64_t add(Format f, uint64_t a, uint64_t b, Rm rm, uint8_t* flags);
uint64_t sub(Format f, uint64_t a, uint64_t b, Rm rm, uint8_t* flags);
uint64_t mul(Format f, uint64_t a, uint64_t b, Rm rm, uint8_t* flags);
uint64_t div(Format f, uint64_t a, uint64_t b, Rm rm, uint8_t* flags);
uint64_t sqrt(Format f, uint64_t a, Rm rm, uint8_t* flags);
uint64_t fma(Format f, uint64_t a, uint64_t b, uint64_t c, bool negate_product, bool negate_addend,
             Rm rm, uint8_t* flags);

// fmin/fmax per RISC-V (IEEE 754-2019 minimumNumber/maximumNumber, -0 < +0).
uint64_t min(Format f, uint64_t a, uint64_t b, uint8_t* flags);
uint64_t max(Format f, uint64_t a, uint64_t b, uint8_t* flags);
// feq is quiet (NV only for signalling NaN); flt and fle signal NV on any NaN.
bool eq(Format f, uint64_t a, uint64_t b, uint8_t* flags);
bool lt(Format f, uint64_t a, uint64_t b, uint8_t* flags);
bool le(Format f, uint64_t a, uint64_t b, uint8_t* flags);
// The fclass bit mask (bit 0: -inf ... bit 9: quiet NaN).
uint64_t classify(Format f, uint64_t a);

// Conversions between formats.
uint64_t convert(Format to, Format from, uint64_t a, Rm rm, uint8_t* flags);
// Float to integer of `bits` (32 or 64) with saturation: NaN and too-large values give the
// largest value, too-small ones the smallest, and raise NV instead of NX. 32-bit results are
// sign-extended to 64 bits whether signed or not, as RV64 writes them to integer registers.
uint64_t to_int(Format f, uint64_t a, int bits, bool is_signed, Rm rm, uint8_t* flags);
// Integer (given as 64-bit value; `is_signed` says how to read it) to float.
uint64_t from_int(Format f, uint64_t v, bool is_signed, Rm rm, uint8_t* flags);

}  // namespace c2w::riscv64::softfp
