// riscv64 core: integer, M, A and C instructions, misaligned and MMIO accesses. Expected
// values come from the ISA spec's definitions (e.g. the division-by-zero table) and, for
// encodings, from GNU as (riscv64-linux-gnu-as) as an independent oracle.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "emulators/riscv64/decode.h"
#include "tests/unit/riscv64_core_support.h"

namespace rv64test {
namespace {

using namespace rvasm;
using c2w::riscv64::decode;
using c2w::riscv64::Insn;
using c2w::riscv64::Op;

// Assembles lines with GNU as and returns the .text bytes.
std::vector<uint8_t> gnu_as(const std::vector<std::string>& lines, bool rvc) {
  char dir[] = "/tmp/rv64asm.XXXXXX";
  if (!mkdtemp(dir)) return {};
  const std::string d = dir;
  {
    std::ofstream s(d + "/a.s");
    s << (rvc ? ".option rvc\n" : ".option norvc\n");
    for (const std::string& l : lines) s << l << "\n";
  }
  const std::string cmd = "riscv64-linux-gnu-as -march=rv64gc -o " + d + "/a.o " + d +
                          "/a.s && riscv64-linux-gnu-objcopy -O binary -j .text " + d + "/a.o " +
                          d + "/a.bin";
  std::vector<uint8_t> out;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream b(d + "/a.bin", std::ios::binary);
    out.assign(std::istreambuf_iterator<char>(b), {});
  }
  std::system(("rm -rf " + d).c_str());
  return out;
}

struct Pair {
  const char* compressed;
  const char* expanded;
};

const Pair kCompressed[] = {
    {"c.addi4spn s0, sp, 1020", "addi s0, sp, 1020"},
    {"c.addi4spn a5, sp, 4", "addi a5, sp, 4"},
    {"c.fld fa0, 248(a5)", "fld fa0, 248(a5)"},
    {"c.lw a0, 124(s1)", "lw a0, 124(s1)"},
    {"c.lw a2, 4(a3)", "lw a2, 4(a3)"},
    {"c.ld a4, 248(s0)", "ld a4, 248(s0)"},
    {"c.fsd fs1, 8(a0)", "fsd fs1, 8(a0)"},
    {"c.sw a1, 64(a2)", "sw a1, 64(a2)"},
    {"c.sd s1, 128(a5)", "sd s1, 128(a5)"},
    {"c.nop", "addi x0, x0, 0"},
    {"c.addi a0, -32", "addi a0, a0, -32"},
    {"c.addi t0, 31", "addi t0, t0, 31"},
    {"c.addiw a1, -1", "addiw a1, a1, -1"},
    {"c.addiw s0, 0", "addiw s0, s0, 0"},
    {"c.li a0, -32", "addi a0, x0, -32"},
    {"c.li t6, 17", "addi t6, x0, 17"},
    {"c.addi16sp sp, -512", "addi sp, sp, -512"},
    {"c.addi16sp sp, 496", "addi sp, sp, 496"},
    {"c.lui a0, 1", "lui a0, 1"},
    {"c.lui t0, 0xfffe0", "lui t0, 0xfffe0"},
    {"c.lui s1, 31", "lui s1, 31"},
    {"c.srli a0, 63", "srli a0, a0, 63"},
    {"c.srli s1, 1", "srli s1, s1, 1"},
    {"c.srai a5, 32", "srai a5, a5, 32"},
    {"c.andi a3, -1", "andi a3, a3, -1"},
    {"c.andi s0, 15", "andi s0, s0, 15"},
    {"c.sub s0, a5", "sub s0, s0, a5"},
    {"c.xor a0, a1", "xor a0, a0, a1"},
    {"c.or s1, a4", "or s1, s1, a4"},
    {"c.and a2, a3", "and a2, a2, a3"},
    {"c.subw a5, s0", "subw a5, a5, s0"},
    {"c.addw a0, a0", "addw a0, a0, a0"},
    {"c.j . - 2048", "jal x0, . - 2048"},
    {"c.j . + 2046", "jal x0, . + 2046"},
    {"c.j . + 6", "jal x0, . + 6"},
    {"c.beqz a0, . - 256", "beq a0, x0, . - 256"},
    {"c.bnez s1, . + 254", "bne s1, x0, . + 254"},
    {"c.bnez a5, . + 2", "bne a5, x0, . + 2"},
    {"c.slli t0, 63", "slli t0, t0, 63"},
    {"c.fldsp fs0, 504(sp)", "fld fs0, 504(sp)"},
    {"c.lwsp ra, 252(sp)", "lw ra, 252(sp)"},
    {"c.ldsp t1, 504(sp)", "ld t1, 504(sp)"},
    {"c.jr ra", "jalr x0, 0(ra)"},
    {"c.mv a0, t6", "add a0, x0, t6"},
    {"c.ebreak", "ebreak"},
    {"c.jalr t0", "jalr ra, 0(t0)"},
    {"c.add s1, a2", "add s1, s1, a2"},
    {"c.fsdsp fa1, 504(sp)", "fsd fa1, 504(sp)"},
    {"c.swsp a7, 252(sp)", "sw a7, 252(sp)"},
    {"c.sdsp s11, 504(sp)", "sd s11, 504(sp)"},
};

TEST(Riscv64Decode, EveryCompressedFormatDecodesLikeItsExpansion) {
  std::vector<std::string> c_lines, w_lines;
  for (const Pair& p : kCompressed) c_lines.push_back(p.compressed), w_lines.push_back(p.expanded);
  const std::vector<uint8_t> c = gnu_as(c_lines, true), w = gnu_as(w_lines, false);
  const size_t n = std::size(kCompressed);
  ASSERT_EQ(c.size(), 2 * n) << "GNU as did not produce one 16-bit parcel per line";
  ASSERT_EQ(w.size(), 4 * n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t cw = c[2 * i] | c[2 * i + 1] << 8;
    const uint32_t ww =
        w[4 * i] | w[4 * i + 1] << 8 | w[4 * i + 2] << 16 | uint32_t{w[4 * i + 3]} << 24;
    const Insn dc = decode(cw), dw = decode(ww);
    SCOPED_TRACE(kCompressed[i].compressed);
    EXPECT_NE(dc.op, Op::kIllegal);
    EXPECT_EQ(dc.op, dw.op) << c2w::riscv64::op_name(dc.op) << " vs "
                            << c2w::riscv64::op_name(dw.op);
    EXPECT_EQ(dc.rd, dw.rd);
    EXPECT_EQ(dc.rs1, dw.rs1);
    EXPECT_EQ(dc.rs2, dw.rs2);
    EXPECT_EQ(dc.imm, dw.imm);
    EXPECT_EQ(dc.len, 2);
    EXPECT_EQ(dw.len, 4);
  }
}

TEST(Riscv64Decode, TestAssemblerMatchesGnuAs) {
  const std::vector<std::pair<uint32_t, std::string>> words = {
      {addi(a0, a1, -5), "addi a0, a1, -5"},
      {lui(t0, 0xfffff), "lui t0, 0xfffff"},
      {sd(s1, sp, -8), "sd s1, -8(sp)"},
      {beq(a0, a1, -4096), "beq a0, a1, . - 4096"},
      {jal(ra, 0xffffe), "jal ra, . + 0xffffe"},
      {srai(a2, a3, 63), "srai a2, a3, 63"},
      {sraiw(a2, a3, 31), "sraiw a2, a3, 31"},
      {csrrw(t1, 0x305, t2), "csrrw t1, mtvec, t2"},
      {amo(kAmoMaxu, true, a0, a1, a2), "amomaxu.d a0, a2, (a1)"},
      {amo(kSc, false, a0, a1, a2), "sc.w a0, a2, (a1)"},
      {fmadd_family(3, 1, 4, 1, 2, 3, 2), "fnmadd.d ft4, ft1, ft2, ft3, rdn"},
      {fp(kFcvtToInt, 0, a0, 1, 3, 1), "fcvt.lu.s a0, ft1, rtz"},
      {fsw(8, a0, 2047), "fsw fs0, 2047(a0)"},
      {sfence_vma(a0, a1), "sfence.vma a0, a1"}};
  const std::vector<std::pair<uint16_t, std::string>> parcels = {
      {c_addi4spn(s0, 1020), "c.addi4spn s0, sp, 1020"},
      {c_lw(a0, s1, 124), "c.lw a0, 124(s1)"},
      {c_sd(s1, a5, 128), "c.sd s1, 128(a5)"},
      {c_addi16sp(-512), "c.addi16sp sp, -512"},
      {c_lui(t0, -32), "c.lui t0, 0xfffe0"},
      {c_andi(a3, -1), "c.andi a3, -1"},
      {c_subw(a5, s0), "c.subw a5, s0"},
      {c_j(-2048), "c.j . - 2048"},
      {c_bnez(s1, 254), "c.bnez s1, . + 254"},
      {c_beqz(a0, -256), "c.beqz a0, . - 256"},
      {c_ldsp(t1, 504), "c.ldsp t1, 504(sp)"},
      {c_lwsp(ra, 252), "c.lwsp ra, 252(sp)"},
      {c_swsp(17, 252), "c.swsp a7, 252(sp)"},
      {c_sdsp(27, 504), "c.sdsp s11, 504(sp)"},
      {c_fldsp(8, 504), "c.fldsp fs0, 504(sp)"},
      {c_srai(a5, 32), "c.srai a5, 32"}};
  std::vector<std::string> wl, pl;
  for (auto& [v, s] : words) wl.push_back(s);
  for (auto& [v, s] : parcels) pl.push_back(s);
  const std::vector<uint8_t> wb = gnu_as(wl, false), pb = gnu_as(pl, true);
  ASSERT_EQ(wb.size(), 4 * words.size());
  ASSERT_EQ(pb.size(), 2 * parcels.size());
  for (size_t i = 0; i < words.size(); ++i) {
    uint32_t g;
    std::memcpy(&g, &wb[4 * i], 4);
    EXPECT_EQ(words[i].first, g) << words[i].second;
  }
  for (size_t i = 0; i < parcels.size(); ++i) {
    uint16_t g;
    std::memcpy(&g, &pb[2 * i], 2);
    EXPECT_EQ(parcels[i].first, g) << parcels[i].second;
  }
}

class Riscv64Int : public Machine {};

TEST_F(Riscv64Int, ReservedCompressedEncodingsAreIllegal) {
  // all-zero, addi4spn 0, quadrant-0 f3=100, addiw x0, addi16sp 0, lui 0, lwsp/ldsp x0, jr x0,
  // and the reserved CA slot (bit 12 set, op2 = 10).
  for (uint16_t c :
       {0x0000, 0x0008, 0x8000, 0x2001, 0x6101, 0x6501, 0x4002, 0x6002, 0x8002, 0x9c41}) {
    SCOPED_TRACE(c);
    put16(kCode, c);
    cpu.pc = kCode;
    cpu.flush_caches();
    ASSERT_TRUE(run_until());
    EXPECT_EQ(cpu.mcause, c2w::riscv64::kIllegal);
    EXPECT_EQ(cpu.mepc, kCode);
    EXPECT_EQ(cpu.mtval, c);
  }
}

TEST_F(Riscv64Int, CompressedProgramRuns) {
  // sum = 10 + 9 + ... + 1 with a c.bnez loop; store/load it through the stack with c.sdsp/c.ldsp
  // and call a subroutine with c.jalr that returns with c.jr.
  cpu.x[sp] = kData + 0x100;
  const uint64_t sub = kCode + 0x80;
  place_mixed(sub, {c_addi(a1, 1), c_jr(ra)});
  place_mixed(kCode,
              {c_li(a0, 10), c_li(s0, 0), c_add(s0, a0), c_addi(a0, -1), c_bnez(a0, -4),
               c_sdsp(s0, 8), c_ldsp(a2, 8), c_li(a1, 5), auipc(t0, 0), addi(t0, t0, 0x80 - 16),
               c_jalr(t0), c_mv(a3, a1), c_slli(a3, 61), c_srai(a3, 62), ebreak()});
  cpu.pc = kCode;
  ASSERT_TRUE(run_until());
  EXPECT_EQ(cpu.mcause, c2w::riscv64::kBreakpoint);
  EXPECT_EQ(cpu.x[s0], 55u);
  EXPECT_EQ(cpu.x[a2], 55u);
  EXPECT_EQ(get64(kData + 0x108), 55u);
  EXPECT_EQ(cpu.x[a1], 6u);
  EXPECT_EQ(cpu.x[a3], ~uint64_t{0});  // 6 << 61 has the sign bit set; srai keeps it
}

struct DivCase {
  uint32_t insn;
  uint64_t a, b, want;
};

TEST_F(Riscv64Int, DivisionByZeroAndOverflowFollowTheSpecTable) {
  const uint64_t kMin = uint64_t{1} << 63, kAll = ~uint64_t{0};
  const DivCase cases[] = {
      {div(a0, a1, a2), 7, 0, kAll},
      {op(5, 1, a0, a1, a2) /*divu*/, 7, 0, kAll},
      {op(6, 1, a0, a1, a2) /*rem*/, 7, 0, 7},
      {op(7, 1, a0, a1, a2) /*remu*/, 7, 0, 7},
      {div(a0, a1, a2), kMin, kAll, kMin},
      {op(6, 1, a0, a1, a2), kMin, kAll, 0},
      {div(a0, a1, a2), static_cast<uint64_t>(-7), 2, static_cast<uint64_t>(-3)},
      {op(6, 1, a0, a1, a2), static_cast<uint64_t>(-7), 2, static_cast<uint64_t>(-1)},
      {divw(a0, a1, a2), 0x123456780000007f, 0, kAll},
      {op32(5, 1, a0, a1, a2) /*divuw*/, 5, 0xffffffff00000000, kAll},
      {op32(6, 1, a0, a1, a2) /*remw*/, 0x80000000, 0, 0xffffffff80000000},
      {op32(7, 1, a0, a1, a2) /*remuw*/, 0x1ffffffff, 0, kAll},
      {divw(a0, a1, a2), 0x80000000, 0xffffffff, 0xffffffff80000000},
      {op32(6, 1, a0, a1, a2), 0x80000000, 0xffffffff, 0},
      {op32(5, 1, a0, a1, a2), 0xfffffffe, 0x2, 0x7fffffff},
      {op(3, 1, a0, a1, a2) /*mulhu*/, kAll, kAll, kAll - 1},
      {op(1, 1, a0, a1, a2) /*mulh*/, kMin, kMin, uint64_t{1} << 62},
      {op(2, 1, a0, a1, a2) /*mulhsu*/, kAll, kAll, kAll},
      {op32(0, 1, a0, a1, a2) /*mulw*/, 0x10000, 0x8000, 0xffffffff80000000},
  };
  for (const DivCase& c : cases) {
    SCOPED_TRACE(c2w::riscv64::op_name(decode(c.insn).op));
    cpu.x[a1] = c.a;
    cpu.x[a2] = c.b;
    ASSERT_EQ(run_code({c.insn}), c2w::riscv64::kBreakpoint);
    EXPECT_EQ(cpu.x[a0], c.want) << std::hex << c.a << " " << c.b;
  }
}

TEST_F(Riscv64Int, WordOpsSignExtendAndShiftsMaskTheirAmount) {
  const DivCase cases[] = {
      {op32(0, 0, a0, a1, a2) /*addw*/, 0x7fffffff, 1, 0xffffffff80000000},
      {addiw(a0, a1, 0), 0x00000000ffffffff, 0, ~uint64_t{0}},
      {op32(0, 0x20, a0, a1, a2) /*subw*/, 0, 1, ~uint64_t{0}},
      {srliw(a0, a1, 0), 0x80000000, 0, 0xffffffff80000000},
      {srliw(a0, a1, 1), 0xffffffff80000000, 0, 0x40000000},
      {sraiw(a0, a1, 4), 0x80000000, 0, 0xfffffffff8000000},
      {slliw(a0, a1, 31), 1, 0, 0xffffffff80000000},
      {sll(a0, a1, a2), 1, 64, 1},
      {sll(a0, a1, a2), 1, 65, 2},
      {srl(a0, a1, a2), uint64_t{1} << 63, 127, 1},
      {sra(a0, a1, a2), uint64_t{1} << 63, 63 + 64, ~uint64_t{0}},
      {op32(1, 0, a0, a1, a2) /*sllw*/, 1, 32, 1},
      {op32(1, 0, a0, a1, a2) /*sllw*/, 1, 63, 0xffffffff80000000},
      {op32(5, 0x20, a0, a1, a2) /*sraw*/, 0x80000000, 33, 0xffffffffc0000000},
      {op32(5, 0, a0, a1, a2) /*srlw*/, 0xffffffff00000010, 36, 1},
      {sltiu(a0, a1, -1), 5, 0, 1},
      {slti(a0, a1, -1), static_cast<uint64_t>(-2), 0, 1},
  };
  for (const DivCase& c : cases) {
    SCOPED_TRACE(c2w::riscv64::op_name(decode(c.insn).op));
    cpu.x[a1] = c.a;
    cpu.x[a2] = c.b;
    ASSERT_EQ(run_code({c.insn}), c2w::riscv64::kBreakpoint);
    EXPECT_EQ(cpu.x[a0], c.want) << std::hex << c.a << " " << c.b;
  }
}

TEST_F(Riscv64Int, LrScSuccessAndFailurePaths) {
  put64(kData, 100);
  cpu.x[a1] = kData;
  cpu.x[a2] = 200;
  // LR then SC to the same address succeeds (rd = 0) and stores.
  ASSERT_EQ(run_code({amo(kLr, true, a0, a1, 0), amo(kSc, true, a3, a1, a2)}),
            c2w::riscv64::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 100u);
  EXPECT_EQ(cpu.x[a3], 0u);
  EXPECT_EQ(get64(kData), 200u);
  // A second SC without a new LR fails: rd = nonzero, memory unchanged.
  cpu.x[a2] = 300;
  ASSERT_EQ(run_code({amo(kSc, true, a3, a1, a2)}), c2w::riscv64::kBreakpoint);
  EXPECT_EQ(cpu.x[a3], 1u);
  EXPECT_EQ(get64(kData), 200u);
  // SC to a different address than the reservation fails.
  cpu.x[a4] = kData + 8;
  ASSERT_EQ(run_code({amo(kLr, true, a0, a1, 0), amo(kSc, true, a3, a4, a2)}),
            c2w::riscv64::kBreakpoint);
  EXPECT_EQ(cpu.x[a3], 1u);
  EXPECT_EQ(get64(kData + 8), 0u);
  // A trap between LR and SC clears the reservation.
  ASSERT_EQ(run_code({amo(kLr, false, a0, a1, 0), ecall()}), c2w::riscv64::kEcallM);
  ASSERT_EQ(run_code({amo(kSc, false, a3, a1, a2)}), c2w::riscv64::kBreakpoint);
  EXPECT_EQ(cpu.x[a3], 1u);
  // LR.W sign-extends.
  put64(kData, 0x80000000);
  ASSERT_EQ(run_code({amo(kLr, false, a0, a1, 0)}), c2w::riscv64::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 0xffffffff80000000);
}

TEST_F(Riscv64Int, AmosReturnOldValueAndStoreResult) {
  struct AmoCase {
    Amo f5;
    bool dw;
    uint64_t mem, src, want_mem;
  };
  const uint64_t n1 = ~uint64_t{0};
  const AmoCase cases[] = {
      {kAmoSwap, true, 5, 9, 9},
      {kAmoAdd, true, n1, 2, 1},
      {kAmoAdd, false, 0x7fffffff, 1, 0x80000000},
      {kAmoXor, true, 0xff00, 0x0ff0, 0xf0f0},
      {kAmoAnd, true, 0xff00, 0x0ff0, 0x0f00},
      {kAmoOr, false, 0xff00, 0x0ff0, 0xfff0},
      {kAmoMin, true, n1, 1, n1},
      {kAmoMax, true, n1, 1, 1},
      {kAmoMinu, true, n1, 1, 1},
      {kAmoMaxu, true, n1, 1, n1},
      {kAmoMin, false, 0x80000000, 1, 0x80000000},
      {kAmoMax, false, 0x80000000, 1, 1},
      {kAmoMinu, false, 0x80000000, 1, 1},
      {kAmoMaxu, false, 0x80000000, 0xffffffff00000001, 0x80000000},
  };
  for (const AmoCase& c : cases) {
    SCOPED_TRACE(testing::Message() << "f5=" << c.f5 << " dw=" << c.dw);
    put64(kData, c.dw ? c.mem : (c.mem & 0xffffffff) | 0xabcd000000000000);
    cpu.x[a1] = kData;
    cpu.x[a2] = c.src;
    ASSERT_EQ(run_code({amo(c.f5, c.dw, a0, a1, a2)}), c2w::riscv64::kBreakpoint);
    const uint64_t old = c.dw ? c.mem : static_cast<uint64_t>(static_cast<int32_t>(c.mem));
    EXPECT_EQ(cpu.x[a0], old);
    if (c.dw)
      EXPECT_EQ(get64(kData), c.want_mem);
    else
      EXPECT_EQ(get64(kData),
                (c.want_mem & 0xffffffff) | 0xabcd000000000000);  // upper word untouched
  }
}

TEST_F(Riscv64Int, MisalignedAtomicsRaiseAddressMisaligned) {
  cpu.x[a1] = kData + 4;
  EXPECT_EQ(run_code({amo(kAmoAdd, true, a0, a1, a2)}), c2w::riscv64::kStoreMisaligned);
  EXPECT_EQ(cpu.mtval, kData + 4);
  cpu.x[a1] = kData + 2;
  EXPECT_EQ(run_code({amo(kLr, false, a0, a1, 0)}), c2w::riscv64::kLoadMisaligned);
  EXPECT_EQ(cpu.mtval, kData + 2);
  EXPECT_EQ(run_code({amo(kSc, false, a0, a1, a2)}), c2w::riscv64::kStoreMisaligned);
}

TEST_F(Riscv64Int, MisalignedLoadsAndStoresAreEmulatedAcrossPages) {
  const uint64_t edge = kData + 0x1000 - 3;  // 8 bytes straddling a page boundary
  for (int i = 0; i < 8; ++i) *bus.ram_ptr(edge + i, 1) = static_cast<uint8_t>(0x81 + i);
  cpu.x[a1] = edge;
  cpu.x[a2] = 0x1122334455667788;
  ASSERT_EQ(run_code({ld(a0, a1, 0), lw(a3, a1, 1), lhu(a4, a1, 2), sd(a2, a1, 0), ld(a5, a1, 0)}),
            c2w::riscv64::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 0x8887868584838281u);
  EXPECT_EQ(cpu.x[a3], 0xffffffff85848382u);
  EXPECT_EQ(cpu.x[a4], 0x8483u);
  EXPECT_EQ(cpu.x[a5], 0x1122334455667788u);
  EXPECT_EQ(*bus.ram_ptr(kData + 0x1000, 1), 0x55);
}

TEST_F(Riscv64Int, BadPhysicalAddressesBecomeAccessFaults) {
  cpu.x[a1] = 0x1000;  // nothing mapped there
  EXPECT_EQ(run_code({ld(a0, a1, 0)}), c2w::riscv64::kLoadAccess);
  EXPECT_EQ(cpu.mtval, 0x1000u);
  EXPECT_EQ(run_code({sw(a0, a1, 8)}), c2w::riscv64::kStoreAccess);
  EXPECT_EQ(cpu.mtval, 0x1008u);
  cpu.x[a1] = kBase + bus.ram_size() - 4;  // last word of RAM: an 8-byte load runs off the end
  EXPECT_EQ(run_code({ld(a0, a1, 0)}), c2w::riscv64::kLoadAccess);
  cpu.x[a1] = 0x10;
  EXPECT_EQ(run_code({jalr(0, a1, 0)}), c2w::riscv64::kInstAccess);
  EXPECT_EQ(cpu.mepc, 0x10u);
}

class Recorder : public c2w::riscv64::Device {
 public:
  bool read(uint64_t offset, unsigned size, uint64_t* value) override {
    if (offset == 0x40) return false;  // a register that refuses reads
    *value = 0xa5a5a5a5a5a5a5a5 + offset + size;
    return true;
  }
  bool write(uint64_t offset, unsigned size, uint64_t value) override {
    last_offset = offset, last_size = size, last_value = value;
    return true;
  }
  uint64_t last_offset = 0, last_size = 0, last_value = 0;
};

TEST_F(Riscv64Int, MmioGoesThroughDevicesWithBoundsChecks) {
  Recorder dev;
  ASSERT_TRUE(bus.add_device(0x10000000, 0x100, &dev));
  EXPECT_FALSE(bus.add_device(0x100000f0, 0x100, &dev)) << "overlap accepted";
  EXPECT_FALSE(bus.add_device(kBase + 0x1000, 0x100, &dev)) << "RAM overlap accepted";
  cpu.x[a1] = 0x10000000;
  cpu.x[a2] = 0x1234;
  ASSERT_EQ(run_code({lw(a0, a1, 8), sh(a2, a1, 0x10)}), c2w::riscv64::kBreakpoint);
  EXPECT_EQ(cpu.x[a0], 0xffffffffa5a5a5b1u);  // low 32 bits of value + 8 + 4, sign-extended
  EXPECT_EQ(dev.last_offset, 0x10u);
  EXPECT_EQ(dev.last_size, 2u);
  EXPECT_EQ(dev.last_value, 0x1234u);
  EXPECT_EQ(run_code({ld(a0, a1, 0xfc)}), c2w::riscv64::kLoadAccess);  // runs past the window
  EXPECT_EQ(run_code({ld(a0, a1, 0x40)}), c2w::riscv64::kLoadAccess);  // device refused
}

}  // namespace
}  // namespace rv64test
