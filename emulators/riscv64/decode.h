// Instruction decoding for RV64IMAFDC + Zicsr + Zifencei. A 16-bit compressed instruction is
// expanded to its 32-bit equivalent first, so both decode to the same Insn and the executor
// has one case per operation. Reserved and unknown encodings decode to Op::kIllegal.
#pragma once

#include <cstdint>

namespace c2w::riscv64 {

// clang-format off
#define C2W_RV64_OPS(X) \
  X(Illegal) \
  X(Lui) X(Auipc) X(Jal) X(Jalr) \
  X(Beq) X(Bne) X(Blt) X(Bge) X(Bltu) X(Bgeu) \
  X(Lb) X(Lh) X(Lw) X(Ld) X(Lbu) X(Lhu) X(Lwu) X(Sb) X(Sh) X(Sw) X(Sd) \
  X(Addi) X(Slti) X(Sltiu) X(Xori) X(Ori) X(Andi) X(Slli) X(Srli) X(Srai) \
  X(Add) X(Sub) X(Sll) X(Slt) X(Sltu) X(Xor) X(Srl) X(Sra) X(Or) X(And) \
  X(Addiw) X(Slliw) X(Srliw) X(Sraiw) X(Addw) X(Subw) X(Sllw) X(Srlw) X(Sraw) \
  X(Fence) X(FenceI) X(Ecall) X(Ebreak) X(Mret) X(Sret) X(Wfi) X(SfenceVma) \
  X(Csrrw) X(Csrrs) X(Csrrc) X(Csrrwi) X(Csrrsi) X(Csrrci) \
  X(Mul) X(Mulh) X(Mulhsu) X(Mulhu) X(Div) X(Divu) X(Rem) X(Remu) \
  X(Mulw) X(Divw) X(Divuw) X(Remw) X(Remuw) \
  X(LrW) X(ScW) X(AmoswapW) X(AmoaddW) X(AmoxorW) X(AmoandW) X(AmoorW) \
  X(AmominW) X(AmomaxW) X(AmominuW) X(AmomaxuW) \
  X(LrD) X(ScD) X(AmoswapD) X(AmoaddD) X(AmoxorD) X(AmoandD) X(AmoorD) \
  X(AmominD) X(AmomaxD) X(AmominuD) X(AmomaxuD) \
  X(Flw) X(Fsw) X(Fld) X(Fsd) \
  X(FmaddS) X(FmsubS) X(FnmsubS) X(FnmaddS) X(FmaddD) X(FmsubD) X(FnmsubD) X(FnmaddD) \
  X(FaddS) X(FsubS) X(FmulS) X(FdivS) X(FsqrtS) X(FsgnjS) X(FsgnjnS) X(FsgnjxS) \
  X(FminS) X(FmaxS) X(FeqS) X(FltS) X(FleS) X(FclassS) X(FmvXW) X(FmvWX) \
  X(FcvtWS) X(FcvtWuS) X(FcvtLS) X(FcvtLuS) X(FcvtSW) X(FcvtSWu) X(FcvtSL) X(FcvtSLu) \
  X(FaddD) X(FsubD) X(FmulD) X(FdivD) X(FsqrtD) X(FsgnjD) X(FsgnjnD) X(FsgnjxD) \
  X(FminD) X(FmaxD) X(FeqD) X(FltD) X(FleD) X(FclassD) X(FmvXD) X(FmvDX) \
  X(FcvtWD) X(FcvtWuD) X(FcvtLD) X(FcvtLuD) X(FcvtDW) X(FcvtDWu) X(FcvtDL) X(FcvtDLu) \
  X(FcvtSD) X(FcvtDS)
// clang-format on

enum class Op : uint8_t {
#define C2W_RV64_ENUM(name) k##name,
  C2W_RV64_OPS(C2W_RV64_ENUM)
#undef C2W_RV64_ENUM
      kCount
};

// Name of an op for traces and test messages ("Addi").
const char* op_name(Op op);

// A decoded instruction. imm holds the sign-extended immediate (for CSR ops: the CSR number in
// imm and the 5-bit zimm in rs1); rm is the raw rounding-mode field of FP ops.
struct Insn {
  Op op = Op::kIllegal;
  uint8_t rd = 0, rs1 = 0, rs2 = 0, rs3 = 0;
  uint8_t rm = 0;
  uint8_t len = 4;  // 2 for compressed
  int32_t imm = 0;
};

// `raw` is a 32-bit instruction or, when its low two bits are not 11, a compressed one in the low
// 16 bits (upper bits ignored).
Insn decode(uint32_t raw);

// The 32-bit instruction a compressed one stands for, or 0 (an illegal encoding) if reserved.
uint32_t expand_compressed(uint16_t c);

}  // namespace c2w::riscv64
