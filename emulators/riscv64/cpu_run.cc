// The interpreter loop and the integer, atomic and system instructions.
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "emulators/riscv64/cpu.h"
#include "emulators/riscv64/cpu_access.h"
#include "emulators/riscv64/int128.h"

namespace c2w::riscv64 {
namespace {

// Instructions between interrupt and timer checks; CSR writes, xRET and WFI end a block early.
constexpr uint64_t kBlock = 1024;

uint64_t sext32(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
}

}  // namespace

Cpu::Cpu(Bus& bus, Clock clock, void* clock_ctx) : bus_(bus), clock_(clock), clock_ctx_(clock_ctx) {
  // All-zero slots (calloc: pages the host maps lazily, no start-up cost) say raw 0 decodes
  // to Illegal, which is true (c.unimp); their zero len is never used, since an illegal
  // instruction traps.
  static_assert(static_cast<unsigned>(Op::kIllegal) == 0);
  for (unsigned bits = kSlotBitsMax; bits >= kSlotBitsMin && !slots_; --bits) {
    slots_.reset(static_cast<Slot*>(std::calloc(size_t{1} << bits, sizeof(Slot))));
    slot_mask_ = (uint64_t{1} << bits) - 1;
  }
  flush_caches();
}

void Cpu::flush_caches() {
  flush_tlb();
  after_mode_change();
}

bool Cpu::fetch_slow(uint64_t pc0, uint32_t* raw) {
  uint64_t cause;
  TlbEntry* e = tlb_fill(pc0, kExec, &cause);
  if (!e) return trap(cause, pc0), false;
  if (!e->host) return trap(kInstAccess, pc0), false;
  uint8_t* host = e->host;
  const uint64_t off = pc0 & 0xfff;
  fetch_page_ = pc0 & ~uint64_t{0xfff};
  fetch_host_ = host;
  fetch_slots_ = slots_ ? slots_.get() + ((e->ppage >> 1) & slot_mask_) : nullptr;
  uint16_t lo;
  std::memcpy(&lo, host + off, 2);
  if (off != 0xffe || (lo & 3) != 3) {
    if (off != 0xffe)
      std::memcpy(raw, host + off, 4);
    else
      *raw = lo;
    return true;
  }
  // A 32-bit instruction straddling two pages: the fault, if any, names the second page.
  TlbEntry* e2 = tlb_fill(pc0 + 2, kExec, &cause);
  if (!e2) return trap(cause, pc0 + 2), false;
  if (!e2->host) return trap(kInstAccess, pc0 + 2), false;
  uint16_t hi;
  std::memcpy(&hi, e2->host, 2);
  *raw = lo | uint32_t{hi} << 16;
  return true;
}

Exit Cpu::run(uint64_t max_instructions) {
  uint64_t budget = max_instructions;
  bool fresh = true;  // the host may have slept (WFI) since the last reading
  for (;;) {
    if (machine_trap_pending_) {
      machine_trap_pending_ = false;
      return Exit::kMachineTrap;
    }
    update_timers(fresh);
    fresh = false;
    cur_pc_ = pc;
    if (check_interrupts()) {
      waiting = false;
      continue;  // re-check: the interrupt may have gone to the host
    }
    if (waiting) {
      if ((mip & mie) == 0) return Exit::kWfi;
      waiting = false;
    }
    if (exit_requested_) {
      exit_requested_ = false;
      return Exit::kHostEvent;
    }
    if (budget == 0) return Exit::kBudget;
    uint64_t n = budget < kBlock ? budget : kBlock;
    budget -= n;
    end_block_ = false;
    budget += run_block(n);
  }
}

// The inner loop: up to n instructions, or fewer when something ends the block (a trap, a CSR
// write, xRET, WFI, a device raising a line); returns how many of the n were not used.
//
// Instructions are decoded once per physical code location: slots_ holds the decoded form of
// the instruction at each 2-byte offset of a window of physical memory, tagged with the raw bits
// it was decoded from. A fetch compares the raw bits at pc with the slot's, so a slot can never
// be stale, whoever wrote the code (a store, a device's DMA, a snapshot restore) and without any
// fence.i; pages that share a slot only cost a decode. The hot instructions (ALU, branches,
// jumps, loads and stores that hit the TLB) run right here with pc in a local; everything else
// goes through execute() with the architectural state in its fields, exactly as before.
//
// cycle and instret are kept as counts in locals and written back before anything that can
// read or write them (execute(): CSR instructions) and at the end of the block, with the values
// the one-instruction-at-a-time model gives: cycle counts every attempted instruction, instret
// those that retired.
// Dispatch: natively (GCC, clang) each handler ends with its own copy of fetch-decode-jump
// through a table of label addresses, so the host's branch predictor sees one indirect jump per
// handler instead of one for all; elsewhere (wasm, where an indirect goto would become a switch
// anyway) a plain switch. The handlers are the same code either way.
#if defined(__GNUC__) && !defined(__wasm__)
#define C2W_RV64_THREADED 1
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"  // labels as values
#else
#define C2W_RV64_THREADED 0
#endif

#if C2W_RV64_THREADED
namespace {
struct DispatchTable {
  struct Entry {
    Op op;
    const void* label;
  };
  DispatchTable(const void* fallback, std::initializer_list<Entry> entries) {
    for (const void*& t : at) t = fallback;
    for (const Entry& e : entries) at[static_cast<unsigned>(e.op)] = e.label;
  }
  const void* at[256];
};
}  // namespace
#endif

uint64_t Cpu::run_block(uint64_t n) {
  uint64_t lpc = pc;
  uint64_t mark = n;  // n at the last write-back of cycle and instret
  uint64_t lost = 0;  // attempted since then but not retired (traps)
  uint64_t fpage = fetch_page_;
  uint8_t* fhost = fetch_host_;
  Slot* fslots = fetch_slots_;
  Insn tmp;
  const Insn* dp;
  uint32_t raw;
  uint64_t a, b, uimm, r;
  int64_t imm;

#if C2W_RV64_THREADED
  // Initialized once, thread-safely (a function-local static), from the label addresses.
  // clang-format off
#define C2W_SET(name) {Op::k##name, &&op_##name},
  static const DispatchTable table(
      &&op_default,
      {C2W_SET(Lui) C2W_SET(Auipc) C2W_SET(Jal) C2W_SET(Jalr)
       C2W_SET(Beq) C2W_SET(Bne) C2W_SET(Blt) C2W_SET(Bge) C2W_SET(Bltu) C2W_SET(Bgeu)
       C2W_SET(Lb) C2W_SET(Lh) C2W_SET(Lw) C2W_SET(Ld) C2W_SET(Lbu) C2W_SET(Lhu) C2W_SET(Lwu)
       C2W_SET(Sb) C2W_SET(Sh) C2W_SET(Sw) C2W_SET(Sd)
       C2W_SET(Addi) C2W_SET(Slti) C2W_SET(Sltiu) C2W_SET(Xori) C2W_SET(Ori) C2W_SET(Andi)
       C2W_SET(Slli) C2W_SET(Srli) C2W_SET(Srai)
       C2W_SET(Add) C2W_SET(Sub) C2W_SET(Sll) C2W_SET(Slt) C2W_SET(Sltu) C2W_SET(Xor)
       C2W_SET(Srl) C2W_SET(Sra) C2W_SET(Or) C2W_SET(And)
       C2W_SET(Addiw) C2W_SET(Slliw) C2W_SET(Srliw) C2W_SET(Sraiw) C2W_SET(Addw) C2W_SET(Subw)
       C2W_SET(Sllw) C2W_SET(Srlw) C2W_SET(Sraw) C2W_SET(Mul) C2W_SET(Mulw) C2W_SET(Fld)
       C2W_SET(Fsd)});
#undef C2W_SET
  // clang-format on
#define C2W_OP(name) op_##name
#define C2W_JUMP() goto* table.at[static_cast<unsigned>(dp->op)]
#else
#define C2W_OP(name) case Op::k##name
#define C2W_JUMP() goto dispatch
#endif

// Fetch, decode (or find in its slot) and dispatch the instruction at lpc.
#define C2W_NEXT()                                                                    \
  do {                                                                                \
    if (n == 0) goto out;                                                             \
    --n;                                                                              \
    if ((lpc & ~uint64_t{0xfff}) != fpage || (lpc & 0xfff) > 0xffc || !fslots)        \
      goto fetch_slow_path;                                                           \
    std::memcpy(&raw, fhost + (lpc & 0xfff), 4);                                      \
    Slot* s_ = fslots + ((lpc & 0xfff) >> 1);                                         \
    if (s_->raw != raw) {                                                             \
      s_->raw = raw;                                                                  \
      s_->insn = decode(raw);                                                         \
    }                                                                                 \
    dp = &s_->insn;                                                                   \
    a = x[dp->rs1], b = x[dp->rs2], imm = dp->imm, uimm = static_cast<uint64_t>(imm); \
    C2W_JUMP();                                                                       \
  } while (0)

  C2W_NEXT();

fetch_slow_path:
  pc = lpc;
  cur_pc_ = lpc;
  if (!fetch_slow(lpc, &raw)) {
    ++lost;
    lpc = pc;
    goto out;  // the trap ended the block
  }
  fpage = fetch_page_, fhost = fetch_host_, fslots = fetch_slots_;
  if ((lpc & 0xfff) <= 0xffc && fslots) {
    Slot* s = fslots + ((lpc & 0xfff) >> 1);
    if (s->raw != raw) {
      s->raw = raw;
      s->insn = decode(raw);
    }
    dp = &s->insn;
  } else {
    tmp = decode(raw);  // the last two bytes of a page: not worth a slot
    dp = &tmp;
  }
  a = x[dp->rs1], b = x[dp->rs2], imm = dp->imm, uimm = static_cast<uint64_t>(imm);
  C2W_JUMP();

  // The handler labels are macros that clang-format cannot see as labels.
  // clang-format off
#if !C2W_RV64_THREADED
dispatch:
  switch (dp->op) {
#else
  {
#endif
    C2W_OP(Lui):
      r = uimm;
      goto write_rd;
    C2W_OP(Auipc):
      r = lpc + uimm;
      goto write_rd;
    C2W_OP(Jal):
      x[dp->rd] = lpc + dp->len;
      x[0] = 0;
      lpc += uimm;
      C2W_NEXT();
    C2W_OP(Jalr):
      x[dp->rd] = lpc + dp->len;
      x[0] = 0;
      lpc = (a + uimm) & ~uint64_t{1};
      C2W_NEXT();
#define C2W_BRANCH(OP, COND)        \
  C2W_OP(OP):                       \
    lpc += (COND) ? uimm : dp->len; \
    C2W_NEXT();
    C2W_BRANCH(Beq, a == b)
    C2W_BRANCH(Bne, a != b)
    C2W_BRANCH(Blt, static_cast<int64_t>(a) < static_cast<int64_t>(b))
    C2W_BRANCH(Bge, static_cast<int64_t>(a) >= static_cast<int64_t>(b))
    C2W_BRANCH(Bltu, a < b)
    C2W_BRANCH(Bgeu, a >= b)
#undef C2W_BRANCH
    // Loads and stores that hit the TLB on a RAM page, aligned: one compare checks the page
    // and the alignment. Anything else takes execute()'s full path.
#define C2W_LOAD(OP, T, U)                                                        \
  C2W_OP(OP) : {                                                                  \
    const uint64_t va = a + uimm;                                                 \
    const TlbEntry& e = tlb_[data_tlb_][kRead][(va >> 12) % kTlbSize];            \
    if ((va & ~uint64_t{0xfff - (sizeof(T) - 1)}) != e.tag || !e.host) goto slow; \
    T v;                                                                          \
    std::memcpy(&v, e.host + (va & 0xfff), sizeof(T));                            \
    r = static_cast<uint64_t>(static_cast<U>(v));                                 \
    goto write_rd;                                                                \
  }
    C2W_LOAD(Lb, int8_t, int64_t)
    C2W_LOAD(Lh, int16_t, int64_t)
    C2W_LOAD(Lw, int32_t, int64_t)
    C2W_LOAD(Ld, uint64_t, uint64_t)
    C2W_LOAD(Lbu, uint8_t, uint64_t)
    C2W_LOAD(Lhu, uint16_t, uint64_t)
    C2W_LOAD(Lwu, uint32_t, uint64_t)
#undef C2W_LOAD
#define C2W_STORE(OP, T)                                                          \
  C2W_OP(OP) : {                                                                  \
    const uint64_t va = a + uimm;                                                 \
    const TlbEntry& e = tlb_[data_tlb_][kWrite][(va >> 12) % kTlbSize];           \
    if ((va & ~uint64_t{0xfff - (sizeof(T) - 1)}) != e.tag || !e.host) goto slow; \
    const T v = static_cast<T>(b);                                                \
    std::memcpy(e.host + (va & 0xfff), &v, sizeof(T));                            \
    lpc += dp->len;                                                               \
    C2W_NEXT();                                                                   \
  }
    C2W_STORE(Sb, uint8_t)
    C2W_STORE(Sh, uint16_t)
    C2W_STORE(Sw, uint32_t)
    C2W_STORE(Sd, uint64_t)
#undef C2W_STORE
#define C2W_ALU(OP, EXPR) \
  C2W_OP(OP) :            \
    r = (EXPR);           \
    goto write_rd;
    C2W_ALU(Addi, a + uimm)
    C2W_ALU(Slti, static_cast<int64_t>(a) < imm)
    C2W_ALU(Sltiu, a < uimm)
    C2W_ALU(Xori, a ^ uimm)
    C2W_ALU(Ori, a | uimm)
    C2W_ALU(Andi, a & uimm)
    C2W_ALU(Slli, a << imm)
    C2W_ALU(Srli, a >> imm)
    C2W_ALU(Srai, static_cast<uint64_t>(static_cast<int64_t>(a) >> imm))
    C2W_ALU(Add, a + b)
    C2W_ALU(Sub, a - b)
    C2W_ALU(Sll, a << (b & 63))
    C2W_ALU(Slt, static_cast<int64_t>(a) < static_cast<int64_t>(b))
    C2W_ALU(Sltu, a < b)
    C2W_ALU(Xor, a ^ b)
    C2W_ALU(Srl, a >> (b & 63))
    C2W_ALU(Sra, static_cast<uint64_t>(static_cast<int64_t>(a) >> (b & 63)))
    C2W_ALU(Or, a | b)
    C2W_ALU(And, a & b)
    C2W_ALU(Addiw, sext32(a + uimm))
    C2W_ALU(Slliw, sext32(static_cast<uint32_t>(a) << imm))
    C2W_ALU(Srliw, sext32(static_cast<uint32_t>(a) >> imm))
    C2W_ALU(Sraiw, sext32(static_cast<uint32_t>(static_cast<int32_t>(a) >> imm)))
    C2W_ALU(Addw, sext32(a + b))
    C2W_ALU(Subw, sext32(a - b))
    C2W_ALU(Sllw, sext32(static_cast<uint32_t>(a) << (b & 31)))
    C2W_ALU(Srlw, sext32(static_cast<uint32_t>(a) >> (b & 31)))
    C2W_ALU(Sraw, sext32(static_cast<uint32_t>(static_cast<int32_t>(a) >> (b & 31))))
    C2W_ALU(Mul, a * b)
    C2W_ALU(Mulw, sext32(a * b))
#undef C2W_ALU
    C2W_OP(Fld) : {
      const uint64_t va = a + uimm;
      const TlbEntry& e = tlb_[data_tlb_][kRead][(va >> 12) % kTlbSize];
      if ((va & ~uint64_t{0xff8}) != e.tag || !e.host || !fp_enabled()) goto fp;
      std::memcpy(&f[dp->rd], e.host + (va & 0xfff), 8);
      fp_dirty();
      lpc += dp->len;
      C2W_NEXT();
    }
    C2W_OP(Fsd) : {
      const uint64_t va = a + uimm;
      const TlbEntry& e = tlb_[data_tlb_][kWrite][(va >> 12) % kTlbSize];
      if ((va & ~uint64_t{0xff8}) != e.tag || !e.host || !fp_enabled()) goto fp;
      std::memcpy(e.host + (va & 0xfff), &f[dp->rs2], 8);
      lpc += dp->len;
      C2W_NEXT();
    }
#if C2W_RV64_THREADED
  op_default:
#else
    default:
#endif
      if (dp->op >= Op::kFlw && dp->op < Op::kCount) goto fp;
      goto slow;
  }
  // clang-format on

write_rd:
  x[dp->rd] = r;
  x[0] = 0;
  lpc += dp->len;
  C2W_NEXT();

fp:
  // F and D: they neither read nor write cycle or instret.
  pc = lpc;
  cur_pc_ = lpc;
  cur_raw_ = (raw & 3) == 3 ? raw : raw & 0xffff;
  if (exec_fp(*dp)) {
    lpc += dp->len;
  } else {
    ++lost;
    lpc = pc;
  }
  if (end_block_) goto out;
  C2W_NEXT();

slow:
  // The full path: architectural state in the fields, counters exact.
  pc = lpc;
  cur_pc_ = lpc;
  cur_raw_ = (raw & 3) == 3 ? raw : raw & 0xffff;
  cycle += mark - n;
  instret += mark - n - 1 - lost;  // not the current instruction yet
  mark = n;
  lost = 0;
  if (execute(*dp, lpc)) ++instret;
  lpc = pc;
  fpage = fetch_page_, fhost = fetch_host_, fslots = fetch_slots_;
  if (end_block_) goto out;
  C2W_NEXT();

out:
  pc = lpc;
  cycle += mark - n;
  instret += mark - n - lost;
  return n;
#undef C2W_NEXT
#undef C2W_JUMP
#undef C2W_OP
}

#if C2W_RV64_THREADED
#pragma GCC diagnostic pop
#endif
#undef C2W_RV64_THREADED

bool Cpu::execute(const Insn& d, uint64_t pc0) {
  const uint64_t a = x[d.rs1], b = x[d.rs2];
  const int64_t imm = d.imm;
  const uint64_t uimm = static_cast<uint64_t>(imm);
  uint64_t next = pc0 + d.len;
  uint64_t r = 0;
  auto branch = [&](bool taken) {
    pc = taken ? pc0 + uimm : next;
    return true;
  };
  auto stored = [&](bool ok) {
    if (ok) pc = next;
    return ok;
  };
  switch (d.op) {
    case Op::kLui:
      r = uimm;
      break;
    case Op::kAuipc:
      r = pc0 + uimm;
      break;
    case Op::kJal:
      r = next, next = pc0 + uimm;
      break;
    case Op::kJalr:
      r = next, next = (a + uimm) & ~uint64_t{1};
      break;
    case Op::kBeq:
      return branch(a == b);
    case Op::kBne:
      return branch(a != b);
    case Op::kBlt:
      return branch(static_cast<int64_t>(a) < static_cast<int64_t>(b));
    case Op::kBge:
      return branch(static_cast<int64_t>(a) >= static_cast<int64_t>(b));
    case Op::kBltu:
      return branch(a < b);
    case Op::kBgeu:
      return branch(a >= b);
#define C2W_LOAD(OP, T)                                 \
  case Op::OP: {                                        \
    T v;                                                \
    if (!load<T>(a + uimm, &v)) return false;           \
    r = static_cast<uint64_t>(static_cast<int64_t>(v)); \
    break;                                              \
  }
      C2W_LOAD(kLb, int8_t)
      C2W_LOAD(kLh, int16_t)
      C2W_LOAD(kLw, int32_t)
      C2W_LOAD(kLd, int64_t)
#undef C2W_LOAD
#define C2W_LOADU(OP, T)                      \
  case Op::OP: {                              \
    T v;                                      \
    if (!load<T>(a + uimm, &v)) return false; \
    r = v;                                    \
    break;                                    \
  }
      C2W_LOADU(kLbu, uint8_t)
      C2W_LOADU(kLhu, uint16_t)
      C2W_LOADU(kLwu, uint32_t)
#undef C2W_LOADU
    case Op::kSb:
      return stored(store<uint8_t>(a + uimm, static_cast<uint8_t>(b)));
    case Op::kSh:
      return stored(store<uint16_t>(a + uimm, static_cast<uint16_t>(b)));
    case Op::kSw:
      return stored(store<uint32_t>(a + uimm, static_cast<uint32_t>(b)));
    case Op::kSd:
      return stored(store<uint64_t>(a + uimm, b));
    case Op::kAddi:
      r = a + uimm;
      break;
    case Op::kSlti:
      r = static_cast<int64_t>(a) < imm;
      break;
    case Op::kSltiu:
      r = a < uimm;
      break;
    case Op::kXori:
      r = a ^ uimm;
      break;
    case Op::kOri:
      r = a | uimm;
      break;
    case Op::kAndi:
      r = a & uimm;
      break;
    case Op::kSlli:
      r = a << imm;
      break;
    case Op::kSrli:
      r = a >> imm;
      break;
    case Op::kSrai:
      r = static_cast<uint64_t>(static_cast<int64_t>(a) >> imm);
      break;
    case Op::kAdd:
      r = a + b;
      break;
    case Op::kSub:
      r = a - b;
      break;
    case Op::kSll:
      r = a << (b & 63);
      break;
    case Op::kSlt:
      r = static_cast<int64_t>(a) < static_cast<int64_t>(b);
      break;
    case Op::kSltu:
      r = a < b;
      break;
    case Op::kXor:
      r = a ^ b;
      break;
    case Op::kSrl:
      r = a >> (b & 63);
      break;
    case Op::kSra:
      r = static_cast<uint64_t>(static_cast<int64_t>(a) >> (b & 63));
      break;
    case Op::kOr:
      r = a | b;
      break;
    case Op::kAnd:
      r = a & b;
      break;
    case Op::kAddiw:
      r = sext32(a + uimm);
      break;
    case Op::kSlliw:
      r = sext32(static_cast<uint32_t>(a) << imm);
      break;
    case Op::kSrliw:
      r = sext32(static_cast<uint32_t>(a) >> imm);
      break;
    case Op::kSraiw:
      r = sext32(static_cast<uint32_t>(static_cast<int32_t>(a) >> imm));
      break;
    case Op::kAddw:
      r = sext32(a + b);
      break;
    case Op::kSubw:
      r = sext32(a - b);
      break;
    case Op::kSllw:
      r = sext32(static_cast<uint32_t>(a) << (b & 31));
      break;
    case Op::kSrlw:
      r = sext32(static_cast<uint32_t>(a) >> (b & 31));
      break;
    case Op::kSraw:
      r = sext32(static_cast<uint32_t>(static_cast<int32_t>(a) >> (b & 31)));
      break;
    case Op::kMul:
      r = a * b;
      break;
    case Op::kMulh:
      r = static_cast<uint64_t>(
          (static_cast<i128>(static_cast<int64_t>(a)) * static_cast<int64_t>(b)) >> 64);
      break;
    case Op::kMulhsu:
      r = static_cast<uint64_t>(
          (static_cast<i128>(static_cast<int64_t>(a)) * static_cast<i128>(b)) >> 64);
      break;
    case Op::kMulhu:
      r = static_cast<uint64_t>((static_cast<u128>(a) * b) >> 64);
      break;
    case Op::kDiv: {
      const int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
      if (sb == 0)
        r = ~uint64_t{0};
      else if (sb == -1)
        r = 0 - a;  // also INT64_MIN / -1, which overflows to INT64_MIN
      else
        r = static_cast<uint64_t>(sa / sb);
      break;
    }
    case Op::kDivu:
      r = b == 0 ? ~uint64_t{0} : a / b;
      break;
    case Op::kRem: {
      const int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
      if (sb == 0)
        r = a;
      else if (sb == -1)
        r = 0;
      else
        r = static_cast<uint64_t>(sa % sb);
      break;
    }
    case Op::kRemu:
      r = b == 0 ? a : a % b;
      break;
    case Op::kMulw:
      r = sext32(a * b);
      break;
    case Op::kDivw: {
      const int32_t sa = static_cast<int32_t>(a), sb = static_cast<int32_t>(b);
      if (sb == 0)
        r = ~uint64_t{0};
      else if (sb == -1)
        r = sext32(0 - static_cast<uint32_t>(sa));
      else
        r = sext32(static_cast<uint32_t>(sa / sb));
      break;
    }
    case Op::kDivuw: {
      const uint32_t ua = static_cast<uint32_t>(a), ub = static_cast<uint32_t>(b);
      r = ub == 0 ? ~uint64_t{0} : sext32(ua / ub);
      break;
    }
    case Op::kRemw: {
      const int32_t sa = static_cast<int32_t>(a), sb = static_cast<int32_t>(b);
      if (sb == 0)
        r = sext32(a);
      else if (sb == -1)
        r = 0;
      else
        r = sext32(static_cast<uint32_t>(sa % sb));
      break;
    }
    case Op::kRemuw: {
      const uint32_t ua = static_cast<uint32_t>(a), ub = static_cast<uint32_t>(b);
      r = sext32(ub == 0 ? ua : ua % ub);
      break;
    }
    case Op::kFence:
    case Op::kFenceI:  // the decode cache is keyed by instruction bits: always coherent
      break;
    case Op::kEcall: {
      static constexpr uint64_t causes[4] = {kEcallU, kEcallS, kEcallS, kEcallM};
      trap(causes[static_cast<unsigned>(priv)], 0);
      return false;
    }
    case Op::kEbreak:
      trap(kBreakpoint, pc0);
      return false;
    case Op::kMret:
      if (priv != Priv::kMachine) return illegal();
      xret(true);
      return true;
    case Op::kSret:
      if (priv == Priv::kUser || (priv == Priv::kSupervisor && (mstatus & mstatus::kTSR)))
        return illegal();
      xret(false);
      return true;
    case Op::kWfi:
      // U-mode WFI and S-mode WFI under TW trap at once (the spec allows any bounded time).
      if (priv == Priv::kUser || (priv == Priv::kSupervisor && (mstatus & mstatus::kTW)))
        return illegal();
      waiting = true;
      end_block_ = true;
      break;
    case Op::kSfenceVma:
      if (priv == Priv::kUser || (priv == Priv::kSupervisor && (mstatus & mstatus::kTVM)))
        return illegal();
      flush_tlb();  // conservatively all addresses and ASIDs
      break;
    case Op::kCsrrw:
    case Op::kCsrrs:
    case Op::kCsrrc:
    case Op::kCsrrwi:
    case Op::kCsrrsi:
    case Op::kCsrrci: {
      const uint32_t csr = static_cast<uint32_t>(imm);
      const bool is_imm = d.op >= Op::kCsrrwi;
      const bool is_write = d.op == Op::kCsrrw || d.op == Op::kCsrrwi;
      const uint64_t src = is_imm ? d.rs1 : a;
      uint64_t old = 0;
      // CSRRW with rd=x0 does not read; CSRRS/C with a zero source do not write.
      if ((!is_write || d.rd != 0) && !csr_read(csr, &old)) return illegal();
      if (is_write || d.rs1 != 0) {
        uint64_t v = src;
        if (d.op == Op::kCsrrs || d.op == Op::kCsrrsi) v = old | src;
        if (d.op == Op::kCsrrc || d.op == Op::kCsrrci) v = old & ~src;
        if (!csr_write(csr, v)) return illegal();
        // A write may enable an interrupt or change translation: end the block so run()
        // checks (mode and translation changes also end it from inside csr_write). Not for
        // the scratch, trap-value and FP-status registers a trap handler writes on every
        // entry, which change neither.
        switch (csr) {
          case 0x001:  // fflags
          case 0x002:  // frm
          case 0x003:  // fcsr
          case 0x105:  // stvec
          case 0x140:  // sscratch
          case 0x141:  // sepc
          case 0x142:  // scause
          case 0x143:  // stval
          case 0x305:  // mtvec
          case 0x340:  // mscratch
          case 0x341:  // mepc
          case 0x342:  // mcause
          case 0x343:  // mtval
            break;
          default:
            end_block_ = true;
        }
      }
      r = old;
      break;
    }
    case Op::kLrW:
    case Op::kScW:
    case Op::kAmoswapW:
    case Op::kAmoaddW:
    case Op::kAmoxorW:
    case Op::kAmoandW:
    case Op::kAmoorW:
    case Op::kAmominW:
    case Op::kAmomaxW:
    case Op::kAmominuW:
    case Op::kAmomaxuW:
    case Op::kLrD:
    case Op::kScD:
    case Op::kAmoswapD:
    case Op::kAmoaddD:
    case Op::kAmoxorD:
    case Op::kAmoandD:
    case Op::kAmoorD:
    case Op::kAmominD:
    case Op::kAmomaxD:
    case Op::kAmominuD:
    case Op::kAmomaxuD:
      return stored(exec_amo(d));
    case Op::kIllegal:
    case Op::kCount:
      return illegal();
    default:
      return stored(exec_fp(d));
  }
  x[d.rd] = r;
  x[0] = 0;
  pc = next;
  return true;
}

bool Cpu::exec_amo(const Insn& d) {
  const bool dw = d.op >= Op::kLrD;
  const unsigned size = dw ? 8 : 4;
  const uint64_t va = x[d.rs1];
  const bool is_lr = d.op == Op::kLrW || d.op == Op::kLrD;
  if (va & (size - 1)) return trap(is_lr ? kLoadMisaligned : kStoreMisaligned, va), false;
  if ((d.op == Op::kScW || d.op == Op::kScD) && !(reservation_valid && reservation_addr == va)) {
    reservation_valid = false;
    x[d.rd] = 1;
    x[0] = 0;
    return true;
  }
  uint8_t* host;
  uint64_t pa;
  if (!amo_locate(va, size, is_lr ? kRead : kWrite, &host, &pa)) return false;
  uint64_t old = 0;
  if (host)
    std::memcpy(&old, host, size);
  else if (!bus_.read(pa, size, &old))
    return trap(is_lr ? kLoadAccess : kStoreAccess, va), false;
  const uint64_t src = x[d.rs2];
  const uint64_t o = dw ? old : sext32(old), s = dw ? src : sext32(src);
  const bool write = !is_lr;
  uint64_t v = 0;
  switch (d.op) {
    case Op::kLrW:
    case Op::kLrD:
      reservation_valid = true, reservation_addr = va;
      break;
    case Op::kScW:
    case Op::kScD:
      v = src, reservation_valid = false, old = 0;
      break;
    case Op::kAmoswapW:
    case Op::kAmoswapD:
      v = src;
      break;
    case Op::kAmoaddW:
    case Op::kAmoaddD:
      v = o + s;
      break;
    case Op::kAmoxorW:
    case Op::kAmoxorD:
      v = o ^ s;
      break;
    case Op::kAmoandW:
    case Op::kAmoandD:
      v = o & s;
      break;
    case Op::kAmoorW:
    case Op::kAmoorD:
      v = o | s;
      break;
    case Op::kAmominW:
    case Op::kAmominD:
      v = static_cast<int64_t>(o) < static_cast<int64_t>(s) ? o : s;
      break;
    case Op::kAmomaxW:
    case Op::kAmomaxD:
      v = static_cast<int64_t>(o) > static_cast<int64_t>(s) ? o : s;
      break;
    case Op::kAmominuW:
    case Op::kAmominuD:
      v = dw ? (o < s ? o : s) : (static_cast<uint32_t>(o) < static_cast<uint32_t>(s) ? o : s);
      break;
    case Op::kAmomaxuW:
    case Op::kAmomaxuD:
      v = dw ? (o > s ? o : s) : (static_cast<uint32_t>(o) > static_cast<uint32_t>(s) ? o : s);
      break;
    default:
      return illegal();
  }
  if (write) {
    if (host)
      std::memcpy(host, &v, size);
    else if (!bus_.write(pa, size, v))
      return trap(kStoreAccess, va), false;
  }
  x[d.rd] = dw ? old : sext32(old);
  x[0] = 0;
  return true;
}

}  // namespace c2w::riscv64
