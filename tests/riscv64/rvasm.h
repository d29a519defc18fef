// A tiny RISC-V assembler for tests: encoders for the base formats (R/I/S/B/U/J, R4) and the
// compressed ones (CR/CI/CSS/CIW/CL/CS/CA/CB/CJ), plus named helpers. Header-only and
// freestanding C++ so both the native tests and the riscv64 guest test programs use it.
// Encodings follow the RISC-V unprivileged spec; tests check a sample against GNU as.
#pragma once

#include <cstdint>

namespace rvasm {

inline uint32_t bits(uint32_t v, int hi, int lo) {
  return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}
inline uint32_t u(int32_t v) {
  return static_cast<uint32_t>(v);
}

// ---- 32-bit formats ----
inline uint32_t r_type(uint32_t opc, int rd, int f3, int rs1, int rs2, uint32_t f7) {
  return f7 << 25 | u(rs2) << 20 | u(rs1) << 15 | u(f3) << 12 | u(rd) << 7 | opc;
}
inline uint32_t r4_type(uint32_t opc, int rd, int rm, int rs1, int rs2, int rs3, int fmt) {
  return u(rs3) << 27 | u(fmt) << 25 | u(rs2) << 20 | u(rs1) << 15 | u(rm) << 12 | u(rd) << 7 | opc;
}
inline uint32_t i_type(uint32_t opc, int rd, int f3, int rs1, int32_t imm) {
  return bits(u(imm), 11, 0) << 20 | u(rs1) << 15 | u(f3) << 12 | u(rd) << 7 | opc;
}
inline uint32_t s_type(uint32_t opc, int f3, int rs1, int rs2, int32_t imm) {
  return bits(u(imm), 11, 5) << 25 | u(rs2) << 20 | u(rs1) << 15 | u(f3) << 12 |
         bits(u(imm), 4, 0) << 7 | opc;
}
inline uint32_t b_type(int f3, int rs1, int rs2, int32_t off) {
  uint32_t v = u(off);
  return bits(v, 12, 12) << 31 | bits(v, 10, 5) << 25 | u(rs2) << 20 | u(rs1) << 15 | u(f3) << 12 |
         bits(v, 4, 1) << 8 | bits(v, 11, 11) << 7 | 0x63;
}
inline uint32_t u_type(uint32_t opc, int rd, int32_t imm20) {
  return bits(u(imm20), 19, 0) << 12 | u(rd) << 7 | opc;
}
inline uint32_t j_type(int rd, int32_t off) {
  uint32_t v = u(off);
  return bits(v, 20, 20) << 31 | bits(v, 10, 1) << 21 | bits(v, 11, 11) << 20 |
         bits(v, 19, 12) << 12 | u(rd) << 7 | 0x6f;
}

// ---- base integer ----
inline uint32_t lui(int rd, int32_t imm20) {
  return u_type(0x37, rd, imm20);
}
inline uint32_t auipc(int rd, int32_t imm20) {
  return u_type(0x17, rd, imm20);
}
inline uint32_t jal(int rd, int32_t off) {
  return j_type(rd, off);
}
inline uint32_t jalr(int rd, int rs1, int32_t imm) {
  return i_type(0x67, rd, 0, rs1, imm);
}
inline uint32_t beq(int a, int b, int32_t off) {
  return b_type(0, a, b, off);
}
inline uint32_t bne(int a, int b, int32_t off) {
  return b_type(1, a, b, off);
}
inline uint32_t blt(int a, int b, int32_t off) {
  return b_type(4, a, b, off);
}
inline uint32_t bgeu(int a, int b, int32_t off) {
  return b_type(7, a, b, off);
}
inline uint32_t load(int f3, int rd, int rs1, int32_t imm) {
  return i_type(0x03, rd, f3, rs1, imm);
}
inline uint32_t lb(int rd, int rs1, int32_t imm) {
  return load(0, rd, rs1, imm);
}
inline uint32_t lh(int rd, int rs1, int32_t imm) {
  return load(1, rd, rs1, imm);
}
inline uint32_t lw(int rd, int rs1, int32_t imm) {
  return load(2, rd, rs1, imm);
}
inline uint32_t ld(int rd, int rs1, int32_t imm) {
  return load(3, rd, rs1, imm);
}
inline uint32_t lbu(int rd, int rs1, int32_t imm) {
  return load(4, rd, rs1, imm);
}
inline uint32_t lhu(int rd, int rs1, int32_t imm) {
  return load(5, rd, rs1, imm);
}
inline uint32_t lwu(int rd, int rs1, int32_t imm) {
  return load(6, rd, rs1, imm);
}
inline uint32_t sb(int rs2, int rs1, int32_t imm) {
  return s_type(0x23, 0, rs1, rs2, imm);
}
inline uint32_t sh(int rs2, int rs1, int32_t imm) {
  return s_type(0x23, 1, rs1, rs2, imm);
}
inline uint32_t sw(int rs2, int rs1, int32_t imm) {
  return s_type(0x23, 2, rs1, rs2, imm);
}
inline uint32_t sd(int rs2, int rs1, int32_t imm) {
  return s_type(0x23, 3, rs1, rs2, imm);
}
inline uint32_t addi(int rd, int rs1, int32_t imm) {
  return i_type(0x13, rd, 0, rs1, imm);
}
inline uint32_t slti(int rd, int rs1, int32_t imm) {
  return i_type(0x13, rd, 2, rs1, imm);
}
inline uint32_t sltiu(int rd, int rs1, int32_t imm) {
  return i_type(0x13, rd, 3, rs1, imm);
}
inline uint32_t xori(int rd, int rs1, int32_t imm) {
  return i_type(0x13, rd, 4, rs1, imm);
}
inline uint32_t ori(int rd, int rs1, int32_t imm) {
  return i_type(0x13, rd, 6, rs1, imm);
}
inline uint32_t andi(int rd, int rs1, int32_t imm) {
  return i_type(0x13, rd, 7, rs1, imm);
}
inline uint32_t slli(int rd, int rs1, int sh) {
  return i_type(0x13, rd, 1, rs1, sh);
}
inline uint32_t srli(int rd, int rs1, int sh) {
  return i_type(0x13, rd, 5, rs1, sh);
}
inline uint32_t srai(int rd, int rs1, int sh) {
  return i_type(0x13, rd, 5, rs1, 0x400 | sh);
}
inline uint32_t addiw(int rd, int rs1, int32_t imm) {
  return i_type(0x1b, rd, 0, rs1, imm);
}
inline uint32_t slliw(int rd, int rs1, int sh) {
  return i_type(0x1b, rd, 1, rs1, sh);
}
inline uint32_t srliw(int rd, int rs1, int sh) {
  return i_type(0x1b, rd, 5, rs1, sh);
}
inline uint32_t sraiw(int rd, int rs1, int sh) {
  return i_type(0x1b, rd, 5, rs1, 0x400 | sh);
}
inline uint32_t op(int f3, uint32_t f7, int rd, int rs1, int rs2) {
  return r_type(0x33, rd, f3, rs1, rs2, f7);
}
inline uint32_t op32(int f3, uint32_t f7, int rd, int rs1, int rs2) {
  return r_type(0x3b, rd, f3, rs1, rs2, f7);
}
inline uint32_t add(int rd, int a, int b) {
  return op(0, 0, rd, a, b);
}
inline uint32_t sub(int rd, int a, int b) {
  return op(0, 0x20, rd, a, b);
}
inline uint32_t sll(int rd, int a, int b) {
  return op(1, 0, rd, a, b);
}
inline uint32_t srl(int rd, int a, int b) {
  return op(5, 0, rd, a, b);
}
inline uint32_t sra(int rd, int a, int b) {
  return op(5, 0x20, rd, a, b);
}
inline uint32_t mul(int rd, int a, int b) {
  return op(0, 1, rd, a, b);
}
inline uint32_t div(int rd, int a, int b) {
  return op(4, 1, rd, a, b);
}
inline uint32_t divw(int rd, int a, int b) {
  return op32(4, 1, rd, a, b);
}
inline uint32_t fence() {
  return 0x0ff0000f;
}
inline uint32_t fence_i() {
  return 0x0000100f;
}
inline uint32_t ecall() {
  return 0x00000073;
}
inline uint32_t ebreak() {
  return 0x00100073;
}
inline uint32_t mret() {
  return 0x30200073;
}
inline uint32_t sret() {
  return 0x10200073;
}
inline uint32_t wfi() {
  return 0x10500073;
}
inline uint32_t sfence_vma(int rs1, int rs2) {
  return r_type(0x73, 0, 0, rs1, rs2, 0x09);
}
inline uint32_t csrrw(int rd, uint32_t csr, int rs1) {
  return i_type(0x73, rd, 1, rs1, static_cast<int32_t>(csr));
}
inline uint32_t csrrs(int rd, uint32_t csr, int rs1) {
  return i_type(0x73, rd, 2, rs1, static_cast<int32_t>(csr));
}
inline uint32_t csrrc(int rd, uint32_t csr, int rs1) {
  return i_type(0x73, rd, 3, rs1, static_cast<int32_t>(csr));
}
inline uint32_t csrrwi(int rd, uint32_t csr, int zimm) {
  return i_type(0x73, rd, 5, zimm, static_cast<int32_t>(csr));
}
inline uint32_t csrr(int rd, uint32_t csr) {
  return csrrs(rd, csr, 0);
}
inline uint32_t csrw(uint32_t csr, int rs1) {
  return csrrw(0, csr, rs1);
}

// ---- A ----
enum Amo : uint32_t {
  kAmoAdd = 0,
  kAmoSwap = 1,
  kLr = 2,
  kSc = 3,
  kAmoXor = 4,
  kAmoOr = 8,
  kAmoAnd = 12,
  kAmoMin = 16,
  kAmoMax = 20,
  kAmoMinu = 24,
  kAmoMaxu = 28
};
inline uint32_t amo(Amo f5, bool dw, int rd, int rs1, int rs2) {
  return r_type(0x2f, rd, dw ? 3 : 2, rs1, rs2, f5 << 2);
}

// ---- F / D ----
inline uint32_t flw(int rd, int rs1, int32_t imm) {
  return i_type(0x07, rd, 2, rs1, imm);
}
inline uint32_t fld(int rd, int rs1, int32_t imm) {
  return i_type(0x07, rd, 3, rs1, imm);
}
inline uint32_t fsw(int rs2, int rs1, int32_t imm) {
  return s_type(0x27, 2, rs1, rs2, imm);
}
inline uint32_t fsd(int rs2, int rs1, int32_t imm) {
  return s_type(0x27, 3, rs1, rs2, imm);
}
// OP-FP: funct7 is (funct5 << 2 | fmt), fmt 0 = S, 1 = D.
inline uint32_t fp(uint32_t f5, int fmt, int rd, int rs1, int rs2, int rm) {
  return r_type(0x53, rd, rm, rs1, rs2, f5 << 2 | u(fmt));
}
enum FpF5 : uint32_t {
  kFadd = 0,
  kFsub = 1,
  kFmul = 2,
  kFdiv = 3,
  kFsgnj = 4,
  kFminmax = 5,
  kFcvtFF = 8,
  kFsqrt = 11,
  kFcmp = 20,
  kFcvtToInt = 24,
  kFcvtFromInt = 26,
  kFmvToX = 28,
  kFmvFromX = 30
};
// fmadd, fmsub, fnmsub, fnmadd: which = 0..3.
inline uint32_t fmadd_family(int which, int fmt, int rd, int rs1, int rs2, int rs3, int rm) {
  return r4_type(0x43 | u(which) << 2, rd, rm, rs1, rs2, rs3, fmt);
}

// ---- compressed formats (return the 16-bit parcel) ----
inline uint32_t creg(int r) {
  return u(r - 8) & 7;
}
inline uint16_t c_ret(uint32_t v) {
  return static_cast<uint16_t>(v);
}
inline uint16_t cr(int f4, int rd, int rs2, int q) {
  return c_ret(u(f4) << 12 | u(rd) << 7 | u(rs2) << 2 | u(q));
}
inline uint16_t ci(int f3, int rd, uint32_t b12, uint32_t b6_2, int q) {
  return c_ret(u(f3) << 13 | b12 << 12 | u(rd) << 7 | b6_2 << 2 | u(q));
}
inline uint16_t css(int f3, uint32_t b12_7, int rs2, int q) {
  return c_ret(u(f3) << 13 | b12_7 << 7 | u(rs2) << 2 | u(q));
}
inline uint16_t ciw(int f3, uint32_t b12_5, int rdp, int q) {
  return c_ret(u(f3) << 13 | b12_5 << 5 | creg(rdp) << 2 | u(q));
}
inline uint16_t cl(int f3, uint32_t b12_10, int rs1p, uint32_t b6_5, int rdp, int q) {
  return c_ret(u(f3) << 13 | b12_10 << 10 | creg(rs1p) << 7 | b6_5 << 5 | creg(rdp) << 2 | u(q));
}
inline uint16_t ca(uint32_t f6, int rdp, uint32_t f2, int rs2p, int q) {
  return c_ret(f6 << 10 | creg(rdp) << 7 | f2 << 5 | creg(rs2p) << 2 | u(q));
}
inline uint16_t cb(int f3, uint32_t b12_10, int rs1p, uint32_t b6_2, int q) {
  return c_ret(u(f3) << 13 | b12_10 << 10 | creg(rs1p) << 7 | b6_2 << 2 | u(q));
}
inline uint16_t cj(int f3, uint32_t b12_2, int q) {
  return c_ret(u(f3) << 13 | b12_2 << 2 | u(q));
}

// Named compressed instructions with immediates scattered as the spec's tables say.
inline uint16_t c_addi4spn(int rdp, uint32_t nzuimm) {
  return ciw(0,
             bits(nzuimm, 5, 4) << 6 | bits(nzuimm, 9, 6) << 2 | bits(nzuimm, 2, 2) << 1 |
                 bits(nzuimm, 3, 3),
             rdp, 0);
}
inline uint16_t c_lw(int rdp, int rs1p, uint32_t off) {
  return cl(2, bits(off, 5, 3), rs1p, bits(off, 2, 2) << 1 | bits(off, 6, 6), rdp, 0);
}
inline uint16_t c_ld(int rdp, int rs1p, uint32_t off) {
  return cl(3, bits(off, 5, 3), rs1p, bits(off, 7, 6), rdp, 0);
}
inline uint16_t c_fld(int rdp, int rs1p, uint32_t off) {
  return cl(1, bits(off, 5, 3), rs1p, bits(off, 7, 6), rdp, 0);
}
inline uint16_t c_sw(int rs2p, int rs1p, uint32_t off) {
  return cl(6, bits(off, 5, 3), rs1p, bits(off, 2, 2) << 1 | bits(off, 6, 6), rs2p, 0);
}
inline uint16_t c_sd(int rs2p, int rs1p, uint32_t off) {
  return cl(7, bits(off, 5, 3), rs1p, bits(off, 7, 6), rs2p, 0);
}
inline uint16_t c_fsd(int rs2p, int rs1p, uint32_t off) {
  return cl(5, bits(off, 5, 3), rs1p, bits(off, 7, 6), rs2p, 0);
}
inline uint16_t c_addi(int rd, int32_t imm) {
  return ci(0, rd, bits(u(imm), 5, 5), bits(u(imm), 4, 0), 1);
}
inline uint16_t c_addiw(int rd, int32_t imm) {
  return ci(1, rd, bits(u(imm), 5, 5), bits(u(imm), 4, 0), 1);
}
inline uint16_t c_li(int rd, int32_t imm) {
  return ci(2, rd, bits(u(imm), 5, 5), bits(u(imm), 4, 0), 1);
}
inline uint16_t c_addi16sp(int32_t imm) {
  uint32_t v = u(imm);
  return ci(3, 2, bits(v, 9, 9),
            bits(v, 4, 4) << 4 | bits(v, 6, 6) << 3 | bits(v, 8, 7) << 1 | bits(v, 5, 5), 1);
}
inline uint16_t c_lui(int rd, int32_t imm6) {
  return ci(3, rd, bits(u(imm6), 5, 5), bits(u(imm6), 4, 0), 1);
}
inline uint16_t c_srli(int rdp, int sh) {
  return cb(4, bits(u(sh), 5, 5) << 2 | 0, rdp, bits(u(sh), 4, 0), 1);
}
inline uint16_t c_srai(int rdp, int sh) {
  return cb(4, bits(u(sh), 5, 5) << 2 | 1, rdp, bits(u(sh), 4, 0), 1);
}
inline uint16_t c_andi(int rdp, int32_t imm) {
  return cb(4, bits(u(imm), 5, 5) << 2 | 2, rdp, bits(u(imm), 4, 0), 1);
}
inline uint16_t c_sub(int rdp, int rs2p) {
  return ca(0x23, rdp, 0, rs2p, 1);
}
inline uint16_t c_xor(int rdp, int rs2p) {
  return ca(0x23, rdp, 1, rs2p, 1);
}
inline uint16_t c_or(int rdp, int rs2p) {
  return ca(0x23, rdp, 2, rs2p, 1);
}
inline uint16_t c_and(int rdp, int rs2p) {
  return ca(0x23, rdp, 3, rs2p, 1);
}
inline uint16_t c_subw(int rdp, int rs2p) {
  return ca(0x27, rdp, 0, rs2p, 1);
}
inline uint16_t c_addw(int rdp, int rs2p) {
  return ca(0x27, rdp, 1, rs2p, 1);
}
inline uint16_t c_j(int32_t off) {
  uint32_t v = u(off);
  return cj(5,
            bits(v, 11, 11) << 10 | bits(v, 4, 4) << 9 | bits(v, 9, 8) << 7 | bits(v, 10, 10) << 6 |
                bits(v, 6, 6) << 5 | bits(v, 7, 7) << 4 | bits(v, 3, 1) << 1 | bits(v, 5, 5),
            1);
}
inline uint16_t c_branch(int f3, int rs1p, int32_t off) {
  uint32_t v = u(off);
  return cb(f3, bits(v, 8, 8) << 2 | bits(v, 4, 3), rs1p,
            bits(v, 7, 6) << 3 | bits(v, 2, 1) << 1 | bits(v, 5, 5), 1);
}
inline uint16_t c_beqz(int rs1p, int32_t off) {
  return c_branch(6, rs1p, off);
}
inline uint16_t c_bnez(int rs1p, int32_t off) {
  return c_branch(7, rs1p, off);
}
inline uint16_t c_slli(int rd, int sh) {
  return ci(0, rd, bits(u(sh), 5, 5), bits(u(sh), 4, 0), 2);
}
inline uint16_t c_fldsp(int rd, uint32_t off) {
  return ci(1, rd, bits(off, 5, 5), bits(off, 4, 3) << 3 | bits(off, 8, 6), 2);
}
inline uint16_t c_lwsp(int rd, uint32_t off) {
  return ci(2, rd, bits(off, 5, 5), bits(off, 4, 2) << 2 | bits(off, 7, 6), 2);
}
inline uint16_t c_ldsp(int rd, uint32_t off) {
  return ci(3, rd, bits(off, 5, 5), bits(off, 4, 3) << 3 | bits(off, 8, 6), 2);
}
inline uint16_t c_jr(int rs1) {
  return cr(8, rs1, 0, 2);
}
inline uint16_t c_mv(int rd, int rs2) {
  return cr(8, rd, rs2, 2);
}
inline uint16_t c_ebreak() {
  return cr(9, 0, 0, 2);
}
inline uint16_t c_jalr(int rs1) {
  return cr(9, rs1, 0, 2);
}
inline uint16_t c_add(int rd, int rs2) {
  return cr(9, rd, rs2, 2);
}
inline uint16_t c_fsdsp(int rs2, uint32_t off) {
  return css(5, bits(off, 5, 3) << 3 | bits(off, 8, 6), rs2, 2);
}
inline uint16_t c_swsp(int rs2, uint32_t off) {
  return css(6, bits(off, 5, 2) << 2 | bits(off, 7, 6), rs2, 2);
}
inline uint16_t c_sdsp(int rs2, uint32_t off) {
  return css(7, bits(off, 5, 3) << 3 | bits(off, 8, 6), rs2, 2);
}

// ABI names of the integer registers, for tests that write programs with this assembler.
namespace regs {
enum : int {
  zero = 0,
  ra = 1,
  sp = 2,
  gp = 3,
  tp = 4,
  t0 = 5,
  t1 = 6,
  t2 = 7,
  s0 = 8,
  s1 = 9,
  a0 = 10,
  a1 = 11,
  a2 = 12,
  a3 = 13,
  a4 = 14,
  a5 = 15,
  a6 = 16,
  a7 = 17,
  s2 = 18,
  s3 = 19,
  s4 = 20,
  s5 = 21,
  s6 = 22,
  s7 = 23,
  s8 = 24,
  s9 = 25,
  s10 = 26,
  s11 = 27,
  t3 = 28,
  t4 = 29,
  t5 = 30,
  t6 = 31
};
}  // namespace regs

}  // namespace rvasm
