// The interpreter loop and the integer, atomic and system instructions.
#include <cstring>

#include "emulators/riscv64/cpu.h"
#include "emulators/riscv64/cpu_access.h"
#include "emulators/riscv64/int128.h"

namespace c2w::rv64 {
namespace {

// Instructions between interrupt and timer checks; CSR writes, xRET and WFI end a block early.
constexpr uint64_t kBlock = 1024;

uint64_t sext32(uint64_t v) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
}

}  // namespace

Cpu::Cpu(Bus& bus, Clock clock, void* clock_ctx) : bus_(bus), clock_(clock), clock_ctx_(clock_ctx) {
  for (DecodeEntry& e : dcache_) e = {0, decode(0)};
  flush_caches();
}

void Cpu::flush_caches() {
  flush_tlb();
  after_mode_change();
}

const Insn& Cpu::decode_cached(uint32_t raw) {
  if ((raw & 3) != 3) raw &= 0xffff;
  // Keyed by the instruction bits themselves, so stores to code need no invalidation.
  DecodeEntry& e = dcache_[(raw * 0x9E3779B1u) >> (32 - 12)];
  static_assert(kDecodeSize == 1u << 12);
  if (e.raw != raw) {
    e.raw = raw;
    e.insn = decode(raw);
  }
  return e.insn;
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
  for (;;) {
    if (machine_trap_pending_) {
      machine_trap_pending_ = false;
      return Exit::kMachineTrap;
    }
    update_timers();
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
    while (n != 0 && !end_block_) {
      --n;
      ++cycle;
      const uint64_t pc0 = pc;
      cur_pc_ = pc0;
      uint32_t raw;
      if ((pc0 & ~uint64_t{0xfff}) == fetch_page_ && (pc0 & 0xfff) <= 0xffc) {
        std::memcpy(&raw, fetch_host_ + (pc0 & 0xfff), 4);
      } else if (!fetch_slow(pc0, &raw)) {
        continue;
      }
      cur_raw_ = (raw & 3) == 3 ? raw : raw & 0xffff;
      if (execute(decode_cached(raw), pc0)) ++instret;
    }
    budget += n;
  }
}

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
        end_block_ = true;
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

}  // namespace c2w::rv64
