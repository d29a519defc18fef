#include "emulators/riscv64/softfp.h"

#include <bit>
#include <cmath>
#include <utility>

#include "emulators/riscv64/int128.h"

namespace c2w::riscv64::softfp {
namespace {

enum Class { kZero, kFinite, kInf, kNaN };

// A finite nonzero value is sig * 2^(exp - 62) with bit 62 of sig set; bits below the target
// precision are guard bits, and a set bit 0 may stand for any nonzero remainder ("sticky").
struct Unpacked {
  bool sign = false;
  Class cls = kZero;
  int32_t exp = 0;
  uint64_t sig = 0;
};

uint64_t exp_max(Format f) {
  return (uint64_t{1} << f.ebits) - 1;
}
uint64_t frac_mask(Format f) {
  return (uint64_t{1} << f.mbits) - 1;
}
int sign_shift(Format f) {
  return f.mbits + f.ebits;
}
uint64_t canonical_nan(Format f) {
  return exp_max(f) << f.mbits | uint64_t{1} << (f.mbits - 1);
}
uint64_t zero(Format f, bool sign) {
  return uint64_t{sign} << sign_shift(f);
}
uint64_t inf(Format f, bool sign) {
  return zero(f, sign) | exp_max(f) << f.mbits;
}

bool is_nan(Format f, uint64_t a) {
  return ((a >> f.mbits) & exp_max(f)) == exp_max(f) && (a & frac_mask(f)) != 0;
}
bool is_snan(Format f, uint64_t a) {
  return is_nan(f, a) && !(a & (uint64_t{1} << (f.mbits - 1)));
}

Unpacked unpack(Format f, uint64_t a) {
  Unpacked u;
  u.sign = (a >> sign_shift(f)) & 1;
  uint64_t e = (a >> f.mbits) & exp_max(f);
  uint64_t m = a & frac_mask(f);
  if (e == exp_max(f)) {
    u.cls = m ? kNaN : kInf;
    return u;
  }
  if (e == 0) {
    if (m == 0) return u;
    u.cls = kFinite;
    u.sig = m << (62 - f.mbits);
    int s = std::countl_zero(u.sig) - 1;
    u.sig <<= s;
    u.exp = 1 - f.bias - s;
    return u;
  }
  u.cls = kFinite;
  u.sig = (m | uint64_t{1} << f.mbits) << (62 - f.mbits);
  u.exp = static_cast<int32_t>(e) - f.bias;
  return u;
}

uint64_t jam64(uint64_t v, int32_t n) {
  if (n <= 0) return v;
  if (n >= 64) return v != 0;
  return (v >> n) | ((v & ((uint64_t{1} << n) - 1)) != 0);
}
u128 jam128(u128 v, int32_t n) {
  if (n <= 0) return v;
  if (n >= 128) return v != 0;
  return (v >> n) | ((v & ((u128{1} << n) - 1)) != 0);
}

bool round_up(Rm rm, bool sign, uint64_t kept, uint64_t rest, uint64_t half) {
  switch (rm) {
    case kRne:
      return rest > half || (rest == half && (kept & 1));
    case kRtz:
      return false;
    case kRdn:
      return rest != 0 && sign;
    case kRup:
      return rest != 0 && !sign;
    case kRmm:
      return rest >= half;
  }
  return false;
}

// Rounds sign * sig * 2^(exp-62) (sig nonzero, any normalization) to format f.
uint64_t round_pack(Format f, bool sign, int32_t exp, uint64_t sig, Rm rm, uint8_t* flags) {
  if (sig >> 63) {
    sig = (sig >> 1) | (sig & 1);
    ++exp;
  } else {
    int s = std::countl_zero(sig) - 1;
    sig <<= s;
    exp -= s;
  }
  const int p = f.mbits + 1;
  const int drop = 63 - p;
  const uint64_t rest_mask = (uint64_t{1} << drop) - 1;
  const uint64_t half = uint64_t{1} << (drop - 1);
  int32_t biased = exp + f.bias;
  auto overflow = [&] {
    *flags |= kOF | kNX;
    bool to_inf = rm == kRne || rm == kRmm || (rm == kRdn && sign) || (rm == kRup && !sign);
    return to_inf ? inf(f, sign) : zero(f, sign) | ((exp_max(f) - 1) << f.mbits | frac_mask(f));
  };
  if (biased >= static_cast<int32_t>(exp_max(f))) return overflow();
  bool tiny = false;
  if (biased < 1) {
    // Tininess after rounding: only a value just below 2^emin that rounds up to it at full
    // precision escapes being tiny.
    tiny = true;
    if (biased == 0) {
      uint64_t kept = sig >> drop;
      if (kept == (uint64_t{1} << p) - 1 && round_up(rm, sign, kept, sig & rest_mask, half))
        tiny = false;
    }
    sig = jam64(sig, 1 - biased);
    biased = 1;
  }
  uint64_t rest = sig & rest_mask;
  uint64_t kept = sig >> drop;
  if (rest) {
    *flags |= kNX;
    if (tiny) *flags |= kUF;
  }
  if (round_up(rm, sign, kept, rest, half)) ++kept;
  // The leading bit of kept lands on the exponent field, so a carry bumps the exponent.
  uint64_t bits = (static_cast<uint64_t>(biased - 1) << f.mbits) + kept;
  if ((bits >> f.mbits) >= exp_max(f)) return overflow();
  return zero(f, sign) | bits;
}

uint64_t propagate_nan(Format f, uint8_t* flags, uint64_t a, uint64_t b, uint64_t c = 0) {
  if (is_snan(f, a) || is_snan(f, b) || is_snan(f, c)) *flags |= kNV;
  return canonical_nan(f);
}

uint64_t invalid(Format f, uint8_t* flags) {
  *flags |= kNV;
  return canonical_nan(f);
}

uint64_t add_signed(Format f, uint64_t a, uint64_t b, bool negate_b, Rm rm, uint8_t* flags) {
  Unpacked x = unpack(f, a), y = unpack(f, b);
  if (x.cls == kNaN || y.cls == kNaN) return propagate_nan(f, flags, a, b);
  y.sign ^= negate_b;
  if (negate_b) b ^= uint64_t{1} << sign_shift(f);
  if (x.cls == kInf || y.cls == kInf) {
    if (x.cls == kInf && y.cls == kInf && x.sign != y.sign) return invalid(f, flags);
    return x.cls == kInf ? a : b;
  }
  if (x.cls == kZero && y.cls == kZero) return zero(f, x.sign == y.sign ? x.sign : rm == kRdn);
  if (x.cls == kZero) return b;
  if (y.cls == kZero) return a;
  if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) std::swap(x, y);
  uint64_t ysig = jam64(y.sig, x.exp - y.exp);
  if (x.sign == y.sign) return round_pack(f, x.sign, x.exp, x.sig + ysig, rm, flags);
  uint64_t diff = x.sig - ysig;
  if (diff == 0) return zero(f, rm == kRdn);
  return round_pack(f, x.sign, x.exp, diff, rm, flags);
}

// The magnitude of a float as a signed integer in which -0 sorts just below +0.
int64_t order_key(Format f, uint64_t a, bool zeros_equal) {
  uint64_t mag = a & ((uint64_t{1} << sign_shift(f)) - 1);
  bool sign = (a >> sign_shift(f)) & 1;
  if (zeros_equal && mag == 0) return 0;
  return sign ? -static_cast<int64_t>(mag) - 1 : static_cast<int64_t>(mag);
}

uint64_t isqrt128(u128 n) {
  uint64_t r = static_cast<uint64_t>(std::sqrt(static_cast<double>(n)));
  if (r == 0) r = 1;
  r = static_cast<uint64_t>((r + n / r) / 2);
  while (u128{r} * r > n) --r;
  while (u128{r + 1} * (r + 1) <= n) ++r;
  return r;
}

}  // namespace

uint64_t add(Format f, uint64_t a, uint64_t b, Rm rm, uint8_t* flags) {
  return add_signed(f, a, b, false, rm, flags);
}

uint64_t sub(Format f, uint64_t a, uint64_t b, Rm rm, uint8_t* flags) {
  return add_signed(f, a, b, true, rm, flags);
}

uint64_t mul(Format f, uint64_t a, uint64_t b, Rm rm, uint8_t* flags) {
  Unpacked x = unpack(f, a), y = unpack(f, b);
  if (x.cls == kNaN || y.cls == kNaN) return propagate_nan(f, flags, a, b);
  bool sign = x.sign != y.sign;
  if (x.cls == kInf || y.cls == kInf) {
    if (x.cls == kZero || y.cls == kZero) return invalid(f, flags);
    return inf(f, sign);
  }
  if (x.cls == kZero || y.cls == kZero) return zero(f, sign);
  u128 p = u128{x.sig} * y.sig;
  uint64_t sig = static_cast<uint64_t>(p >> 62) | ((p & ((u128{1} << 62) - 1)) != 0);
  return round_pack(f, sign, x.exp + y.exp, sig, rm, flags);
}

uint64_t div(Format f, uint64_t a, uint64_t b, Rm rm, uint8_t* flags) {
  Unpacked x = unpack(f, a), y = unpack(f, b);
  if (x.cls == kNaN || y.cls == kNaN) return propagate_nan(f, flags, a, b);
  bool sign = x.sign != y.sign;
  if (x.cls == kInf) return y.cls == kInf ? invalid(f, flags) : inf(f, sign);
  if (y.cls == kInf) return zero(f, sign);
  if (y.cls == kZero) {
    if (x.cls == kZero) return invalid(f, flags);
    *flags |= kDZ;
    return inf(f, sign);
  }
  if (x.cls == kZero) return zero(f, sign);
  u128 n = u128{x.sig} << 62;
  uint64_t q = static_cast<uint64_t>(n / y.sig);
  bool rem = n % y.sig != 0;
  return round_pack(f, sign, x.exp - y.exp, q | rem, rm, flags);
}

uint64_t sqrt(Format f, uint64_t a, Rm rm, uint8_t* flags) {
  Unpacked x = unpack(f, a);
  if (x.cls == kNaN) return propagate_nan(f, flags, a, 0);
  if (x.cls == kZero) return a;
  if (x.sign) return invalid(f, flags);
  if (x.cls == kInf) return a;
  int s = (x.exp & 1) ? 63 : 62;
  u128 n = u128{x.sig} << s;
  uint64_t r = isqrt128(n);
  bool rem = u128{r} * r != n;
  return round_pack(f, false, 62 + (x.exp - 62 - s) / 2, r | rem, rm, flags);
}

uint64_t fma(Format f, uint64_t a, uint64_t b, uint64_t c, bool negate_product, bool negate_addend,
             Rm rm, uint8_t* flags) {
  Unpacked x = unpack(f, a), y = unpack(f, b), z = unpack(f, c);
  bool inf_times_zero = (x.cls == kInf && y.cls == kZero) || (x.cls == kZero && y.cls == kInf);
  if (x.cls == kNaN || y.cls == kNaN || z.cls == kNaN) {
    // RISC-V signals invalid for inf*0 even when the addend is a quiet NaN.
    if (inf_times_zero) *flags |= kNV;
    return propagate_nan(f, flags, a, b, c);
  }
  if (inf_times_zero) return invalid(f, flags);
  bool ps = x.sign != y.sign ? !negate_product : negate_product;
  z.sign ^= negate_addend;
  if (x.cls == kInf || y.cls == kInf) {
    if (z.cls == kInf && z.sign != ps) return invalid(f, flags);
    return inf(f, ps);
  }
  if (z.cls == kInf) return inf(f, z.sign);
  if (x.cls == kZero || y.cls == kZero) {
    if (z.cls == kZero) return zero(f, ps == z.sign ? ps : rm == kRdn);
    return c ^ (uint64_t{negate_addend} << sign_shift(f));
  }
  u128 p = u128{x.sig} * y.sig;  // value p * 2^(pexp - 124)
  int32_t pexp = x.exp + y.exp;
  if (z.cls == kZero) {
    uint64_t sig = static_cast<uint64_t>(p >> 62) | ((p & ((u128{1} << 62) - 1)) != 0);
    return round_pack(f, ps, pexp, sig, rm, flags);
  }
  u128 q = u128{z.sig} << 62;  // value q * 2^(z.exp - 124)
  int32_t e = pexp;
  if (pexp >= z.exp) {
    q = jam128(q, pexp - z.exp);
  } else {
    p = jam128(p, z.exp - pexp);
    e = z.exp;
  }
  u128 s;
  bool sign;
  if (ps == z.sign) {
    s = p + q;
    sign = ps;
  } else if (p >= q) {
    s = p - q;
    sign = ps;
  } else {
    s = q - p;
    sign = z.sign;
  }
  if (s == 0) return zero(f, rm == kRdn);
  uint64_t hi = static_cast<uint64_t>(s >> 64);
  int lead = hi ? 127 - std::countl_zero(hi) : 63 - std::countl_zero(static_cast<uint64_t>(s));
  int k = lead - 62;  // shift that puts the leading bit at 62
  uint64_t sig = k > 0 ? static_cast<uint64_t>(jam128(s, k)) : static_cast<uint64_t>(s) << -k;
  return round_pack(f, sign, e - 62 + k, sig, rm, flags);
}

uint64_t min(Format f, uint64_t a, uint64_t b, uint8_t* flags) {
  if (is_snan(f, a) || is_snan(f, b)) *flags |= kNV;
  if (is_nan(f, a)) return is_nan(f, b) ? canonical_nan(f) : b;
  if (is_nan(f, b)) return a;
  return order_key(f, a, false) < order_key(f, b, false) ? a : b;
}

uint64_t max(Format f, uint64_t a, uint64_t b, uint8_t* flags) {
  if (is_snan(f, a) || is_snan(f, b)) *flags |= kNV;
  if (is_nan(f, a)) return is_nan(f, b) ? canonical_nan(f) : b;
  if (is_nan(f, b)) return a;
  return order_key(f, a, false) > order_key(f, b, false) ? a : b;
}

bool eq(Format f, uint64_t a, uint64_t b, uint8_t* flags) {
  if (is_nan(f, a) || is_nan(f, b)) {
    if (is_snan(f, a) || is_snan(f, b)) *flags |= kNV;
    return false;
  }
  return order_key(f, a, true) == order_key(f, b, true);
}

bool lt(Format f, uint64_t a, uint64_t b, uint8_t* flags) {
  if (is_nan(f, a) || is_nan(f, b)) {
    *flags |= kNV;
    return false;
  }
  return order_key(f, a, true) < order_key(f, b, true);
}

bool le(Format f, uint64_t a, uint64_t b, uint8_t* flags) {
  if (is_nan(f, a) || is_nan(f, b)) {
    *flags |= kNV;
    return false;
  }
  return order_key(f, a, true) <= order_key(f, b, true);
}

uint64_t classify(Format f, uint64_t a) {
  bool sign = (a >> sign_shift(f)) & 1;
  uint64_t e = (a >> f.mbits) & exp_max(f);
  uint64_t m = a & frac_mask(f);
  if (e == exp_max(f)) {
    if (m == 0) return sign ? 1u << 0 : 1u << 7;
    return is_snan(f, a) ? 1u << 8 : 1u << 9;
  }
  if (e == 0) {
    if (m == 0) return sign ? 1u << 3 : 1u << 4;
    return sign ? 1u << 2 : 1u << 5;
  }
  return sign ? 1u << 1 : 1u << 6;
}

uint64_t convert(Format to, Format from, uint64_t a, Rm rm, uint8_t* flags) {
  Unpacked x = unpack(from, a);
  switch (x.cls) {
    case kNaN:
      if (is_snan(from, a)) *flags |= kNV;
      return canonical_nan(to);
    case kInf:
      return inf(to, x.sign);
    case kZero:
      return zero(to, x.sign);
    case kFinite:
      break;
  }
  return round_pack(to, x.sign, x.exp, x.sig, rm, flags);
}

uint64_t to_int(Format f, uint64_t a, int bits, bool is_signed, Rm rm, uint8_t* flags) {
  Unpacked x = unpack(f, a);
  const uint64_t umax = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  const uint64_t smax = umax >> 1;
  const uint64_t max_v = is_signed ? smax : umax;
  const uint64_t min_v = is_signed ? ~smax : 0;  // -2^(bits-1) as a 64-bit pattern, or 0
  auto sext = [&](uint64_t v) {
    return bits == 32 ? static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v))) : v;
  };
  auto invalid_result = [&](bool negative) {
    *flags |= kNV;
    return sext(negative ? min_v : max_v);
  };
  if (x.cls == kNaN) return invalid_result(false);
  if (x.cls == kInf) return invalid_result(x.sign);
  if (x.cls == kZero) return 0;
  if (x.exp >= 64) return invalid_result(x.sign);
  uint64_t mag;
  bool inexact = false;
  if (x.exp >= 62) {
    mag = x.sig << (x.exp - 62);
  } else {
    int shift = 62 - x.exp;
    uint64_t kept = 0, rest = 1, half = 2;  // below 2^-1: a nonzero rest under one half
    if (shift <= 63) {
      kept = x.sig >> shift;
      rest = x.sig & ((uint64_t{1} << shift) - 1);
      half = uint64_t{1} << (shift - 1);
    }
    inexact = rest != 0;
    mag = kept + round_up(rm, x.sign, kept, rest, half);
  }
  if (is_signed) {
    if (x.sign ? mag > smax + 1 : mag > smax) return invalid_result(x.sign);
  } else {
    if (x.sign ? mag != 0 : mag > umax) return invalid_result(x.sign);
  }
  if (inexact) *flags |= kNX;
  return sext(x.sign ? 0 - mag : mag);
}

uint64_t from_int(Format f, uint64_t v, bool is_signed, Rm rm, uint8_t* flags) {
  bool sign = is_signed && static_cast<int64_t>(v) < 0;
  uint64_t mag = sign ? 0 - v : v;
  if (mag == 0) return 0;
  return round_pack(f, sign, 62, mag, rm, flags);
}

}  // namespace c2w::riscv64::softfp
