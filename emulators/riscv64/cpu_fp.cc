// F and D instructions: NaN-boxing, rounding-mode selection, fflags accumulation and FS state.
// The arithmetic is softfp (exact flags, identical natively and in wasm), except where host
// floating point provably gives the same bits and flags (exec_fp_host).
#include <bit>
#include <cmath>

#include "emulators/riscv64/cpu.h"
#include "emulators/riscv64/cpu_access.h"
#include "emulators/riscv64/softfp.h"

namespace c2w::riscv64 {
namespace {

constexpr uint64_t kBox = 0xffffffff00000000;

// A single held in a 64-bit register is valid only when NaN-boxed; otherwise it reads as the
// canonical NaN.
uint64_t unbox(uint64_t v) {
  return (v & kBox) == kBox ? v & 0xffffffff : softfp::kCanonicalNaN32;
}
uint64_t sext32(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
}

bool uses_rounding_mode(Op op) {
  switch (op) {
    case Op::kFsgnjS:
    case Op::kFsgnjnS:
    case Op::kFsgnjxS:
    case Op::kFsgnjD:
    case Op::kFsgnjnD:
    case Op::kFsgnjxD:
    case Op::kFminS:
    case Op::kFmaxS:
    case Op::kFminD:
    case Op::kFmaxD:
    case Op::kFeqS:
    case Op::kFltS:
    case Op::kFleS:
    case Op::kFeqD:
    case Op::kFltD:
    case Op::kFleD:
    case Op::kFclassS:
    case Op::kFclassD:
    case Op::kFmvXW:
    case Op::kFmvWX:
    case Op::kFmvXD:
    case Op::kFmvDX:
    case Op::kFlw:
    case Op::kFld:
    case Op::kFsw:
    case Op::kFsd:
      return false;
    default:
      return true;
  }
}

// ---- Host floating point where it is provably bit-identical to softfp ----
//
// Host (and wasm) float and double arithmetic is IEEE 754 with round-to-nearest-even, and
// +, -, *, /, sqrt and fma are correctly rounded, so for RNE the result bits equal softfp's
// whenever no NaN is involved. What the host cannot give is the flags. So the host is used
// only when the flags are known without it:
//  - operands are zero or normal with a small exponent (|e| <= 300 for double, 30 for single),
//    so no result overflows or underflows (a nonzero exact result is a multiple of at least
//    2^-704 / 2^-106) and none is invalid (no NaN or infinity in, no sqrt of a negative, no
//    division by zero): the only possible flag is NX;
//  - and NX is already set in fflags (sticky: it stays set until software clears it, which
//    few programs do), so whether this operation is exact changes nothing.
// Conversions from integers that are exact in the target format raise no flag in any rounding
// mode, and truncating conversions to integers in range raise NX exactly when the value was
// not an integer; those need no precondition on fflags.
double as_f64(uint64_t v) {
  return std::bit_cast<double>(v);
}
float as_f32(uint64_t v) {
  return std::bit_cast<float>(static_cast<uint32_t>(v));
}
uint64_t bits64(double v) {
  return std::bit_cast<uint64_t>(v);
}
uint64_t bits32(float v) {
  return std::bit_cast<uint32_t>(v);
}
bool tame64(uint64_t v) {
  const uint64_t e = (v >> 52) & 0x7ff;
  return (e >= 1023 - 300 && e <= 1023 + 300) || (v << 1) == 0;
}
bool tame32(uint64_t v) {  // v: an unboxed single (a non-boxed value unboxes to a NaN)
  const uint64_t e = (v >> 23) & 0xff;
  return (e >= 127 - 30 && e <= 127 + 30) || (v & 0x7fffffff) == 0;
}
bool nonzero64(uint64_t v) {
  return (v << 1) != 0;
}
bool nonzero32(uint64_t v) {
  return (v & 0x7fffffff) != 0;
}

}  // namespace

// The host path (see above). Returns false to let softfp do the operation; otherwise it has
// written the result (and NX, for conversions) like the softfp path would.
bool Cpu::exec_fp_host(const Insn& d, unsigned rm) {
  const uint64_t a = f[d.rs1], b = f[d.rs2], c = f[d.rs3];
  const bool nx = (fflags & softfp::kNX) != 0;
  const bool rne_nx = rm == softfp::kRne && nx;
  uint64_t out;
  switch (d.op) {
    case Op::kFaddD:
      if (!rne_nx || !tame64(a) || !tame64(b)) return false;
      out = bits64(as_f64(a) + as_f64(b));
      break;
    case Op::kFsubD:
      if (!rne_nx || !tame64(a) || !tame64(b)) return false;
      out = bits64(as_f64(a) - as_f64(b));
      break;
    case Op::kFmulD:
      if (!rne_nx || !tame64(a) || !tame64(b)) return false;
      out = bits64(as_f64(a) * as_f64(b));
      break;
    case Op::kFdivD:
      if (!rne_nx || !tame64(a) || !tame64(b) || !nonzero64(b)) return false;
      out = bits64(as_f64(a) / as_f64(b));
      break;
    case Op::kFsqrtD:
      if (!rne_nx || !tame64(a) || ((a >> 63) && nonzero64(a))) return false;
      out = bits64(std::sqrt(as_f64(a)));
      break;
    case Op::kFmaddD:
    case Op::kFmsubD:
    case Op::kFnmsubD:
    case Op::kFnmaddD: {
      if (!rne_nx || !tame64(a) || !tame64(b) || !tame64(c)) return false;
      // fmsub: a*b-c; fnmsub: -(a*b)+c; fnmadd: -(a*b)-c. Negation is exact.
      const uint64_t sa = d.op == Op::kFnmsubD || d.op == Op::kFnmaddD ? uint64_t{1} << 63 : 0;
      const uint64_t sc = d.op == Op::kFmsubD || d.op == Op::kFnmaddD ? uint64_t{1} << 63 : 0;
      out = bits64(std::fma(as_f64(a ^ sa), as_f64(b), as_f64(c ^ sc)));
      break;
    }
    case Op::kFaddS:
    case Op::kFsubS:
    case Op::kFmulS:
    case Op::kFdivS:
    case Op::kFsqrtS:
    case Op::kFmaddS:
    case Op::kFmsubS:
    case Op::kFnmsubS:
    case Op::kFnmaddS: {
      if (!rne_nx) return false;
      const uint64_t ua = unbox(a), ub = unbox(b), uc = unbox(c);
      if (!tame32(ua)) return false;
      const float fa = as_f32(ua), fb = as_f32(ub);
      float r;
      switch (d.op) {
        case Op::kFsqrtS:
          if ((ua >> 31) && nonzero32(ua)) return false;
          r = std::sqrt(fa);
          break;
        case Op::kFaddS:
        case Op::kFsubS:
        case Op::kFmulS:
        case Op::kFdivS:
          if (!tame32(ub)) return false;
          if (d.op == Op::kFaddS) {
            r = fa + fb;
          } else if (d.op == Op::kFsubS) {
            r = fa - fb;
          } else if (d.op == Op::kFmulS) {
            r = fa * fb;
          } else {
            if (!nonzero32(ub)) return false;
            r = fa / fb;
          }
          break;
        default: {
          if (!tame32(ub) || !tame32(uc)) return false;
          const uint64_t sa = d.op == Op::kFnmsubS || d.op == Op::kFnmaddS ? 0x80000000 : 0;
          const uint64_t sc = d.op == Op::kFmsubS || d.op == Op::kFnmaddS ? 0x80000000 : 0;
          r = std::fma(as_f32(ua ^ sa), fb, as_f32(uc ^ sc));
          break;
        }
      }
      f[d.rd] = bits32(r) | kBox;
      fp_dirty();
      return true;
    }
    case Op::kFcvtDL:
    case Op::kFcvtDW: {
      const int64_t v =
          d.op == Op::kFcvtDW ? static_cast<int32_t>(x[d.rs1]) : static_cast<int64_t>(x[d.rs1]);
      if (v > (int64_t{1} << 53) || v < -(int64_t{1} << 53)) return false;
      out = bits64(static_cast<double>(v));
      break;
    }
    case Op::kFcvtLD:
    case Op::kFcvtWD: {
      if (rm != softfp::kRtz) return false;
      const uint64_t e = (a >> 52) & 0x7ff;  // |a| < 2^62 (2^31): no NaN, inf or overflow
      if (e >= 1023 + (d.op == Op::kFcvtLD ? 62 : 31)) return false;
      const double v = as_f64(a);
      const int64_t t = static_cast<int64_t>(v);  // truncates
      if (static_cast<double>(t) != v) {
        fflags |= softfp::kNX;
        fp_dirty();
      }
      x[d.rd] = static_cast<uint64_t>(t);  // a W result is in int32 range: already sign-extended
      x[0] = 0;
      return true;
    }
    default:
      return false;
  }
  f[d.rd] = out;
  fp_dirty();
  return true;
}

bool Cpu::exec_fp(const Insn& d) {
  using namespace softfp;
  if (!fp_enabled()) return illegal();
  const uint8_t rm_raw = d.rm == 7 ? frm : d.rm;
  if (uses_rounding_mode(d.op) && rm_raw > 4) return illegal();  // reserved static or dynamic rm
  const Rm rm = static_cast<Rm>(rm_raw);
  if (exec_fp_host(d, rm)) return true;
  const uint64_t a = f[d.rs1], b = f[d.rs2], c = f[d.rs3];
  const uint64_t xa = x[d.rs1];
  const uint64_t addr = xa + static_cast<uint64_t>(static_cast<int64_t>(d.imm));
  uint8_t fl = 0;
  uint64_t out = 0;
  enum { kToF32, kToF64, kToX } dest = kToF64;

  switch (d.op) {
    case Op::kFlw: {
      uint32_t v;
      if (!load<uint32_t>(addr, &v)) return false;
      out = v, dest = kToF32;
      break;
    }
    case Op::kFld: {
      uint64_t v;
      if (!load<uint64_t>(addr, &v)) return false;
      out = v;
      break;
    }
    case Op::kFsw:
      return store<uint32_t>(addr, static_cast<uint32_t>(b));
    case Op::kFsd:
      return store<uint64_t>(addr, b);

    case Op::kFmaddS:
      out = fma(kF32, unbox(a), unbox(b), unbox(c), false, false, rm, &fl), dest = kToF32;
      break;
    case Op::kFmsubS:
      out = fma(kF32, unbox(a), unbox(b), unbox(c), false, true, rm, &fl), dest = kToF32;
      break;
    case Op::kFnmsubS:
      out = fma(kF32, unbox(a), unbox(b), unbox(c), true, false, rm, &fl), dest = kToF32;
      break;
    case Op::kFnmaddS:
      out = fma(kF32, unbox(a), unbox(b), unbox(c), true, true, rm, &fl), dest = kToF32;
      break;
    case Op::kFmaddD:
      out = fma(kF64, a, b, c, false, false, rm, &fl);
      break;
    case Op::kFmsubD:
      out = fma(kF64, a, b, c, false, true, rm, &fl);
      break;
    case Op::kFnmsubD:
      out = fma(kF64, a, b, c, true, false, rm, &fl);
      break;
    case Op::kFnmaddD:
      out = fma(kF64, a, b, c, true, true, rm, &fl);
      break;

    case Op::kFaddS:
      out = add(kF32, unbox(a), unbox(b), rm, &fl), dest = kToF32;
      break;
    case Op::kFsubS:
      out = sub(kF32, unbox(a), unbox(b), rm, &fl), dest = kToF32;
      break;
    case Op::kFmulS:
      out = mul(kF32, unbox(a), unbox(b), rm, &fl), dest = kToF32;
      break;
    case Op::kFdivS:
      out = div(kF32, unbox(a), unbox(b), rm, &fl), dest = kToF32;
      break;
    case Op::kFsqrtS:
      out = sqrt(kF32, unbox(a), rm, &fl), dest = kToF32;
      break;
    case Op::kFaddD:
      out = add(kF64, a, b, rm, &fl);
      break;
    case Op::kFsubD:
      out = sub(kF64, a, b, rm, &fl);
      break;
    case Op::kFmulD:
      out = mul(kF64, a, b, rm, &fl);
      break;
    case Op::kFdivD:
      out = div(kF64, a, b, rm, &fl);
      break;
    case Op::kFsqrtD:
      out = sqrt(kF64, a, rm, &fl);
      break;

    case Op::kFsgnjS:
      out = (unbox(a) & 0x7fffffff) | (unbox(b) & 0x80000000), dest = kToF32;
      break;
    case Op::kFsgnjnS:
      out = (unbox(a) & 0x7fffffff) | (~unbox(b) & 0x80000000), dest = kToF32;
      break;
    case Op::kFsgnjxS:
      out = unbox(a) ^ (unbox(b) & 0x80000000), dest = kToF32;
      break;
    case Op::kFsgnjD:
      out = (a & ~(uint64_t{1} << 63)) | (b & uint64_t{1} << 63);
      break;
    case Op::kFsgnjnD:
      out = (a & ~(uint64_t{1} << 63)) | (~b & uint64_t{1} << 63);
      break;
    case Op::kFsgnjxD:
      out = a ^ (b & uint64_t{1} << 63);
      break;

    case Op::kFminS:
      out = min(kF32, unbox(a), unbox(b), &fl), dest = kToF32;
      break;
    case Op::kFmaxS:
      out = max(kF32, unbox(a), unbox(b), &fl), dest = kToF32;
      break;
    case Op::kFminD:
      out = min(kF64, a, b, &fl);
      break;
    case Op::kFmaxD:
      out = max(kF64, a, b, &fl);
      break;

    case Op::kFeqS:
      out = eq(kF32, unbox(a), unbox(b), &fl), dest = kToX;
      break;
    case Op::kFltS:
      out = lt(kF32, unbox(a), unbox(b), &fl), dest = kToX;
      break;
    case Op::kFleS:
      out = le(kF32, unbox(a), unbox(b), &fl), dest = kToX;
      break;
    case Op::kFeqD:
      out = eq(kF64, a, b, &fl), dest = kToX;
      break;
    case Op::kFltD:
      out = lt(kF64, a, b, &fl), dest = kToX;
      break;
    case Op::kFleD:
      out = le(kF64, a, b, &fl), dest = kToX;
      break;
    case Op::kFclassS:
      out = classify(kF32, unbox(a)), dest = kToX;
      break;
    case Op::kFclassD:
      out = classify(kF64, a), dest = kToX;
      break;

    // Moves copy raw bits: no unboxing, no canonicalization.
    case Op::kFmvXW:
      out = sext32(a), dest = kToX;
      break;
    case Op::kFmvWX:
      out = xa & 0xffffffff, dest = kToF32;
      break;
    case Op::kFmvXD:
      out = a, dest = kToX;
      break;
    case Op::kFmvDX:
      out = xa;
      break;

    case Op::kFcvtWS:
      out = to_int(kF32, unbox(a), 32, true, rm, &fl), dest = kToX;
      break;
    case Op::kFcvtWuS:
      out = to_int(kF32, unbox(a), 32, false, rm, &fl), dest = kToX;
      break;
    case Op::kFcvtLS:
      out = to_int(kF32, unbox(a), 64, true, rm, &fl), dest = kToX;
      break;
    case Op::kFcvtLuS:
      out = to_int(kF32, unbox(a), 64, false, rm, &fl), dest = kToX;
      break;
    case Op::kFcvtWD:
      out = to_int(kF64, a, 32, true, rm, &fl), dest = kToX;
      break;
    case Op::kFcvtWuD:
      out = to_int(kF64, a, 32, false, rm, &fl), dest = kToX;
      break;
    case Op::kFcvtLD:
      out = to_int(kF64, a, 64, true, rm, &fl), dest = kToX;
      break;
    case Op::kFcvtLuD:
      out = to_int(kF64, a, 64, false, rm, &fl), dest = kToX;
      break;

    case Op::kFcvtSW:
      out = from_int(kF32, sext32(xa), true, rm, &fl), dest = kToF32;
      break;
    case Op::kFcvtSWu:
      out = from_int(kF32, xa & 0xffffffff, false, rm, &fl), dest = kToF32;
      break;
    case Op::kFcvtSL:
      out = from_int(kF32, xa, true, rm, &fl), dest = kToF32;
      break;
    case Op::kFcvtSLu:
      out = from_int(kF32, xa, false, rm, &fl), dest = kToF32;
      break;
    case Op::kFcvtDW:
      out = from_int(kF64, sext32(xa), true, rm, &fl);
      break;
    case Op::kFcvtDWu:
      out = from_int(kF64, xa & 0xffffffff, false, rm, &fl);
      break;
    case Op::kFcvtDL:
      out = from_int(kF64, xa, true, rm, &fl);
      break;
    case Op::kFcvtDLu:
      out = from_int(kF64, xa, false, rm, &fl);
      break;
    case Op::kFcvtSD:
      out = convert(kF32, kF64, a, rm, &fl), dest = kToF32;
      break;
    case Op::kFcvtDS:
      out = convert(kF64, kF32, unbox(a), rm, &fl);
      break;

    default:
      return illegal();
  }
  if (fl) {
    fflags |= fl;
    fp_dirty();
  }
  switch (dest) {
    case kToF32:
      f[d.rd] = out | kBox, fp_dirty();
      break;
    case kToF64:
      f[d.rd] = out, fp_dirty();
      break;
    case kToX:
      x[d.rd] = out;
      x[0] = 0;
      break;
  }
  return true;
}

}  // namespace c2w::riscv64
