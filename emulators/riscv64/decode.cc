#include "emulators/riscv64/decode.h"

namespace c2w::riscv64 {
namespace {

uint32_t bits(uint32_t v, int hi, int lo) {
  return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}
int32_t sext(uint32_t v, int width) {
  return static_cast<int32_t>(v << (32 - width)) >> (32 - width);
}

// 32-bit encoders used to expand compressed instructions.
uint32_t enc_r(uint32_t opc, uint32_t rd, uint32_t f3, uint32_t rs1, uint32_t rs2, uint32_t f7) {
  return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}
uint32_t enc_i(uint32_t opc, uint32_t rd, uint32_t f3, uint32_t rs1, int32_t imm) {
  return static_cast<uint32_t>(imm) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}
uint32_t enc_s(uint32_t opc, uint32_t f3, uint32_t rs1, uint32_t rs2, int32_t imm) {
  uint32_t u = static_cast<uint32_t>(imm);
  return bits(u, 11, 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | bits(u, 4, 0) << 7 | opc;
}
uint32_t enc_b(uint32_t f3, uint32_t rs1, int32_t imm) {
  uint32_t u = static_cast<uint32_t>(imm);
  return bits(u, 12, 12) << 31 | bits(u, 10, 5) << 25 | rs1 << 15 | f3 << 12 | bits(u, 4, 1) << 8 |
         bits(u, 11, 11) << 7 | 0x63;
}
uint32_t enc_j(uint32_t rd, int32_t imm) {
  uint32_t u = static_cast<uint32_t>(imm);
  return bits(u, 20, 20) << 31 | bits(u, 10, 1) << 21 | bits(u, 11, 11) << 20 |
         bits(u, 19, 12) << 12 | rd << 7 | 0x6f;
}

Insn decode32(uint32_t r) {
  Insn d;
  d.rd = bits(r, 11, 7);
  d.rs1 = bits(r, 19, 15);
  d.rs2 = bits(r, 24, 20);
  d.rs3 = bits(r, 31, 27);
  d.rm = bits(r, 14, 12);
  const uint32_t f3 = d.rm, f7 = bits(r, 31, 25);
  const int32_t imm_i = static_cast<int32_t>(r) >> 20;
  const int32_t imm_s = (static_cast<int32_t>(r) >> 25) * 32 | static_cast<int32_t>(bits(r, 11, 7));
  auto set = [&](Op op, int32_t imm = 0) {
    d.op = op;
    d.imm = imm;
    return d;
  };
  auto pick = [&](const Op* table, uint32_t index, int32_t imm = 0) {
    return set(table[index], imm);
  };
  using O = Op;
  constexpr O I = O::kIllegal;
  switch (r & 0x7f) {
    case 0x37:
      return set(O::kLui, static_cast<int32_t>(r & 0xfffff000));
    case 0x17:
      return set(O::kAuipc, static_cast<int32_t>(r & 0xfffff000));
    case 0x6f:
      return set(O::kJal, sext(bits(r, 31, 31) << 20 | bits(r, 19, 12) << 12 |
                                   bits(r, 20, 20) << 11 | bits(r, 30, 21) << 1,
                               21));
    case 0x67:
      return f3 == 0 ? set(O::kJalr, imm_i) : d;
    case 0x63: {
      static constexpr O t[8] = {O::kBeq, O::kBne, I, I, O::kBlt, O::kBge, O::kBltu, O::kBgeu};
      return pick(t, f3,
                  sext(bits(r, 31, 31) << 12 | bits(r, 7, 7) << 11 | bits(r, 30, 25) << 5 |
                           bits(r, 11, 8) << 1,
                       13));
    }
    case 0x03: {
      static constexpr O t[8] = {O::kLb, O::kLh, O::kLw, O::kLd, O::kLbu, O::kLhu, O::kLwu, I};
      return pick(t, f3, imm_i);
    }
    case 0x23: {
      static constexpr O t[8] = {O::kSb, O::kSh, O::kSw, O::kSd, I, I, I, I};
      return pick(t, f3, imm_s);
    }
    case 0x13: {
      const uint32_t top6 = bits(r, 31, 26);
      switch (f3) {
        case 1:
          return top6 == 0 ? set(O::kSlli, imm_i & 63) : d;
        case 5:
          if (top6 == 0) return set(O::kSrli, imm_i & 63);
          return top6 == 0x10 ? set(O::kSrai, imm_i & 63) : d;
        default: {
          static constexpr O t[8] = {O::kAddi, I, O::kSlti, O::kSltiu,
                                     O::kXori, I, O::kOri,  O::kAndi};
          return pick(t, f3, imm_i);
        }
      }
    }
    case 0x1b:
      if (f3 == 0) return set(O::kAddiw, imm_i);
      if (f3 == 1 && f7 == 0) return set(O::kSlliw, static_cast<int32_t>(d.rs2));
      if (f3 == 5 && f7 == 0) return set(O::kSrliw, static_cast<int32_t>(d.rs2));
      if (f3 == 5 && f7 == 0x20) return set(O::kSraiw, static_cast<int32_t>(d.rs2));
      return d;
    case 0x33: {
      static constexpr O base[8] = {O::kAdd, O::kSll, O::kSlt, O::kSltu,
                                    O::kXor, O::kSrl, O::kOr,  O::kAnd};
      static constexpr O m[8] = {O::kMul, O::kMulh, O::kMulhsu, O::kMulhu,
                                 O::kDiv, O::kDivu, O::kRem,    O::kRemu};
      if (f7 == 0) return pick(base, f3);
      if (f7 == 1) return pick(m, f3);
      if (f7 == 0x20 && f3 == 0) return set(O::kSub);
      if (f7 == 0x20 && f3 == 5) return set(O::kSra);
      return d;
    }
    case 0x3b: {
      static constexpr O base[8] = {O::kAddw, O::kSllw, I, I, I, O::kSrlw, I, I};
      static constexpr O alt[8] = {O::kSubw, I, I, I, I, O::kSraw, I, I};
      static constexpr O m[8] = {O::kMulw, I, I, I, O::kDivw, O::kDivuw, O::kRemw, O::kRemuw};
      if (f7 == 0) return pick(base, f3);
      if (f7 == 0x20) return pick(alt, f3);
      if (f7 == 1) return pick(m, f3);
      return d;
    }
    case 0x0f:
      if (f3 == 0) return set(O::kFence);
      return f3 == 1 ? set(O::kFenceI) : d;
    case 0x73:
      if (f3 == 0) {
        if (r == 0x00000073) return set(O::kEcall);
        if (r == 0x00100073) return set(O::kEbreak);
        if (r == 0x30200073) return set(O::kMret);
        if (r == 0x10200073) return set(O::kSret);
        if (r == 0x10500073) return set(O::kWfi);
        if (f7 == 0x09 && d.rd == 0) return set(O::kSfenceVma);
        return d;
      } else {
        static constexpr O t[8] = {I, O::kCsrrw,  O::kCsrrs,  O::kCsrrc,
                                   I, O::kCsrrwi, O::kCsrrsi, O::kCsrrci};
        return pick(t, f3, static_cast<int32_t>(bits(r, 31, 20)));
      }
    case 0x2f: {
      if (f3 != 2 && f3 != 3) return d;
      const bool dw = f3 == 3;
      switch (d.rs3) {
        case 0x02:
          return d.rs2 == 0 ? set(dw ? O::kLrD : O::kLrW) : d;
        case 0x03:
          return set(dw ? O::kScD : O::kScW);
        case 0x01:
          return set(dw ? O::kAmoswapD : O::kAmoswapW);
        case 0x00:
          return set(dw ? O::kAmoaddD : O::kAmoaddW);
        case 0x04:
          return set(dw ? O::kAmoxorD : O::kAmoxorW);
        case 0x0c:
          return set(dw ? O::kAmoandD : O::kAmoandW);
        case 0x08:
          return set(dw ? O::kAmoorD : O::kAmoorW);
        case 0x10:
          return set(dw ? O::kAmominD : O::kAmominW);
        case 0x14:
          return set(dw ? O::kAmomaxD : O::kAmomaxW);
        case 0x18:
          return set(dw ? O::kAmominuD : O::kAmominuW);
        case 0x1c:
          return set(dw ? O::kAmomaxuD : O::kAmomaxuW);
        default:
          return d;
      }
    }
    case 0x07:
      if (f3 == 2) return set(O::kFlw, imm_i);
      return f3 == 3 ? set(O::kFld, imm_i) : d;
    case 0x27:
      if (f3 == 2) return set(O::kFsw, imm_s);
      return f3 == 3 ? set(O::kFsd, imm_s) : d;
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: {
      const uint32_t fmt = bits(r, 26, 25);
      if (fmt > 1) return d;
      static constexpr O s[4] = {O::kFmaddS, O::kFmsubS, O::kFnmsubS, O::kFnmaddS};
      static constexpr O dd[4] = {O::kFmaddD, O::kFmsubD, O::kFnmsubD, O::kFnmaddD};
      return pick(fmt ? dd : s, bits(r, 3, 2));
    }
    case 0x53: {
      const bool dp = f7 & 1;
      const uint32_t rs2 = d.rs2;
      switch (f7 >> 1) {
        case 0x00:
          return set(dp ? O::kFaddD : O::kFaddS);
        case 0x02:
          return set(dp ? O::kFsubD : O::kFsubS);
        case 0x04:
          return set(dp ? O::kFmulD : O::kFmulS);
        case 0x06:
          return set(dp ? O::kFdivD : O::kFdivS);
        case 0x16:
          return rs2 == 0 ? set(dp ? O::kFsqrtD : O::kFsqrtS) : d;
        case 0x08: {
          static constexpr O s[8] = {O::kFsgnjS, O::kFsgnjnS, O::kFsgnjxS, I, I, I, I, I};
          static constexpr O t[8] = {O::kFsgnjD, O::kFsgnjnD, O::kFsgnjxD, I, I, I, I, I};
          return pick(dp ? t : s, f3);
        }
        case 0x0a: {
          static constexpr O s[8] = {O::kFminS, O::kFmaxS, I, I, I, I, I, I};
          static constexpr O t[8] = {O::kFminD, O::kFmaxD, I, I, I, I, I, I};
          return pick(dp ? t : s, f3);
        }
        case 0x10:
          if (!dp && rs2 == 1) return set(O::kFcvtSD);
          return dp && rs2 == 0 ? set(O::kFcvtDS) : d;
        case 0x28: {
          static constexpr O s[8] = {O::kFleS, O::kFltS, O::kFeqS, I, I, I, I, I};
          static constexpr O t[8] = {O::kFleD, O::kFltD, O::kFeqD, I, I, I, I, I};
          return pick(dp ? t : s, f3);
        }
        case 0x30: {
          if (rs2 > 3) return d;
          static constexpr O s[4] = {O::kFcvtWS, O::kFcvtWuS, O::kFcvtLS, O::kFcvtLuS};
          static constexpr O t[4] = {O::kFcvtWD, O::kFcvtWuD, O::kFcvtLD, O::kFcvtLuD};
          return pick(dp ? t : s, rs2);
        }
        case 0x34: {
          if (rs2 > 3) return d;
          static constexpr O s[4] = {O::kFcvtSW, O::kFcvtSWu, O::kFcvtSL, O::kFcvtSLu};
          static constexpr O t[4] = {O::kFcvtDW, O::kFcvtDWu, O::kFcvtDL, O::kFcvtDLu};
          return pick(dp ? t : s, rs2);
        }
        case 0x38:
          if (rs2 != 0) return d;
          if (f3 == 0) return set(dp ? O::kFmvXD : O::kFmvXW);
          return f3 == 1 ? set(dp ? O::kFclassD : O::kFclassS) : d;
        case 0x3c:
          return rs2 == 0 && f3 == 0 ? set(dp ? O::kFmvDX : O::kFmvWX) : d;
        default:
          return d;
      }
    }
    default:
      return d;
  }
}

}  // namespace

const char* op_name(Op op) {
  static constexpr const char* names[] = {
#define C2W_RV64_NAME(name) #name,
      C2W_RV64_OPS(C2W_RV64_NAME)
#undef C2W_RV64_NAME
  };
  auto i = static_cast<unsigned>(op);
  return i < static_cast<unsigned>(Op::kCount) ? names[i] : "?";
}

uint32_t expand_compressed(uint16_t c16) {
  const uint32_t c = c16;
  const uint32_t f3 = bits(c, 15, 13);
  const uint32_t rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
  const uint32_t rdp = 8 + bits(c, 4, 2), rs1p = 8 + bits(c, 9, 7);
  const int32_t imm6 = sext(bits(c, 12, 12) << 5 | bits(c, 6, 2), 6);
  const int32_t ld_off = static_cast<int32_t>(bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6);
  const int32_t lw_off =
      static_cast<int32_t>(bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 | bits(c, 5, 5) << 6);
  const int32_t ldsp_off =
      static_cast<int32_t>(bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 | bits(c, 4, 2) << 6);
  const int32_t sdsp_off = static_cast<int32_t>(bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6);
  switch (c & 3) {
    case 0:
      switch (f3) {
        case 0: {
          uint32_t imm =
              bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 | bits(c, 6, 6) << 2 | bits(c, 5, 5) << 3;
          return imm ? enc_i(0x13, rdp, 0, 2, static_cast<int32_t>(imm)) : 0;
        }
        case 1:
          return enc_i(0x07, rdp, 3, rs1p, ld_off);
        case 2:
          return enc_i(0x03, rdp, 2, rs1p, lw_off);
        case 3:
          return enc_i(0x03, rdp, 3, rs1p, ld_off);
        case 5:
          return enc_s(0x27, 3, rs1p, rdp, ld_off);
        case 6:
          return enc_s(0x23, 2, rs1p, rdp, lw_off);
        case 7:
          return enc_s(0x23, 3, rs1p, rdp, ld_off);
        default:
          return 0;
      }
    case 1:
      switch (f3) {
        case 0:
          return enc_i(0x13, rd, 0, rd, imm6);
        case 1:
          return rd ? enc_i(0x1b, rd, 0, rd, imm6) : 0;
        case 2:
          return enc_i(0x13, rd, 0, 0, imm6);
        case 3:
          if (rd == 2) {
            int32_t imm = sext(bits(c, 12, 12) << 9 | bits(c, 6, 6) << 4 | bits(c, 5, 5) << 6 |
                                   bits(c, 4, 3) << 7 | bits(c, 2, 2) << 5,
                               10);
            return imm ? enc_i(0x13, 2, 0, 2, imm) : 0;
          } else {
            int32_t imm = sext(bits(c, 12, 12) << 17 | bits(c, 6, 2) << 12, 18);
            return imm ? (static_cast<uint32_t>(imm) & 0xfffff000) | rd << 7 | 0x37 : 0;
          }
        case 4: {
          const uint32_t shamt = bits(c, 12, 12) << 5 | bits(c, 6, 2);
          switch (bits(c, 11, 10)) {
            case 0:
              return enc_i(0x13, rs1p, 5, rs1p, static_cast<int32_t>(shamt));
            case 1:
              return enc_i(0x13, rs1p, 5, rs1p, static_cast<int32_t>(shamt | 0x400));
            case 2:
              return enc_i(0x13, rs1p, 7, rs1p, imm6);
            default: {
              const uint32_t op2 = bits(c, 6, 5);
              if (bits(c, 12, 12) == 0) {
                static constexpr uint32_t f3s[4] = {0, 4, 6, 7};
                return enc_r(0x33, rs1p, f3s[op2], rs1p, rdp, op2 == 0 ? 0x20 : 0);
              }
              if (op2 == 0) return enc_r(0x3b, rs1p, 0, rs1p, rdp, 0x20);
              if (op2 == 1) return enc_r(0x3b, rs1p, 0, rs1p, rdp, 0);
              return 0;
            }
          }
        }
        case 5:
          return enc_j(0, sext(bits(c, 12, 12) << 11 | bits(c, 11, 11) << 4 | bits(c, 10, 9) << 8 |
                                   bits(c, 8, 8) << 10 | bits(c, 7, 7) << 6 | bits(c, 6, 6) << 7 |
                                   bits(c, 5, 3) << 1 | bits(c, 2, 2) << 5,
                               12));
        default: {  // 6, 7: c.beqz, c.bnez
          int32_t off = sext(bits(c, 12, 12) << 8 | bits(c, 11, 10) << 3 | bits(c, 6, 5) << 6 |
                                 bits(c, 4, 3) << 1 | bits(c, 2, 2) << 5,
                             9);
          return enc_b(f3 - 6, rs1p, off);
        }
      }
    case 2:
      switch (f3) {
        case 0:
          return enc_i(0x13, rd, 1, rd, static_cast<int32_t>(bits(c, 12, 12) << 5 | rs2));
        case 1:
          return enc_i(0x07, rd, 3, 2, ldsp_off);
        case 2: {
          int32_t off =
              static_cast<int32_t>(bits(c, 12, 12) << 5 | bits(c, 6, 4) << 2 | bits(c, 3, 2) << 6);
          return rd ? enc_i(0x03, rd, 2, 2, off) : 0;
        }
        case 3:
          return rd ? enc_i(0x03, rd, 3, 2, ldsp_off) : 0;
        case 4:
          if (bits(c, 12, 12) == 0) {
            if (rs2 == 0) return rd ? enc_i(0x67, 0, 0, rd, 0) : 0;
            return enc_r(0x33, rd, 0, 0, rs2, 0);
          }
          if (rd == 0 && rs2 == 0) return 0x00100073;
          if (rs2 == 0) return enc_i(0x67, 1, 0, rd, 0);
          return enc_r(0x33, rd, 0, rd, rs2, 0);
        case 5:
          return enc_s(0x27, 3, 2, rs2, sdsp_off);
        case 6: {
          int32_t off = static_cast<int32_t>(bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6);
          return enc_s(0x23, 2, 2, rs2, off);
        }
        default:
          return enc_s(0x23, 3, 2, rs2, sdsp_off);
      }
    default:
      return 0;
  }
}

Insn decode(uint32_t raw) {
  if ((raw & 3) == 3) return decode32(raw);
  uint32_t full = expand_compressed(static_cast<uint16_t>(raw));
  Insn d = full ? decode32(full) : Insn{};
  d.len = 2;
  return d;
}

}  // namespace c2w::riscv64
