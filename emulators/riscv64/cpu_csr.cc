// Control and status registers, traps, interrupts and privilege changes.
#include "emulators/riscv64/cpu.h"

namespace c2w::riscv64 {
namespace {

using namespace mstatus;

constexpr uint64_t kMstatusWritable =
    kSIE | kMIE | kSPIE | kMPIE | kSPP | kMPP | kFS | kMPRV | kSUM | kMXR | kTVM | kTW | kTSR;
constexpr uint64_t kSstatusWritable = kSIE | kSPIE | kSPP | kFS | kSUM | kMXR;
constexpr uint64_t kSstatusVisible = kSstatusWritable | kUXL | kSD;
constexpr uint64_t kSupervisorIrqs = 1 << kSSI | 1 << kSTI | 1 << kSEI;
constexpr uint64_t kAllIrqs = kSupervisorIrqs | 1 << kMSI | 1 << kMTI | 1 << kMEI;
// Every exception except ecall from M-mode (which cannot be delegated) and reserved codes.
constexpr uint64_t kDelegableExceptions = 0xB3FF & ~(uint64_t{1} << kEcallM);
constexpr uint64_t kMenvcfgSTCE = uint64_t{1} << 63;
constexpr uint64_t kMenvcfgFIOM = 1;
constexpr uint64_t kMisa = uint64_t{2} << 62 | 1 << ('A' - 'A') | 1 << ('C' - 'A') |
                           1 << ('D' - 'A') | 1 << ('F' - 'A') | 1 << ('I' - 'A') |
                           1 << ('M' - 'A') | 1 << ('S' - 'A') | 1 << ('U' - 'A');

unsigned level(Priv p) {
  return static_cast<unsigned>(p);
}

}  // namespace

uint64_t Cpu::read_mstatus() const {
  uint64_t v = mstatus | uint64_t{2} << 32 | uint64_t{2} << 34;  // UXL = SXL = 64-bit
  if ((mstatus & kFS) == kFS) v |= kSD;
  return v;
}

void Cpu::write_mstatus(uint64_t value, uint64_t mask) {
  uint64_t next = (mstatus & ~mask) | (value & mask);
  if ((next & kMPP) == (uint64_t{2} << 11)) next = (next & ~kMPP) | (mstatus & kMPP);  // WARL
  if ((next ^ mstatus) & kMXR) flush_tlb();  // MXR is not part of the TLB index
  mstatus = next;
  after_mode_change();
}

void Cpu::after_mode_change() {
  data_priv_ = priv;
  if (priv == Priv::kMachine && (mstatus & kMPRV))
    data_priv_ = static_cast<Priv>((mstatus & kMPP) >> 11);
  switch (data_priv_) {
    case Priv::kUser:
      data_tlb_ = 0;
      break;
    case Priv::kSupervisor:
      data_tlb_ = (mstatus & kSUM) ? 2 : 1;
      break;
    default:
      data_tlb_ = 3;
      break;
  }
  exec_tlb_ = priv == Priv::kMachine ? 3 : level(priv);
  fetch_page_ = kNoTag;
  end_block_ = true;
}

bool Cpu::illegal() {
  trap(kIllegal, cur_raw_);
  return false;
}

void Cpu::trap(uint64_t cause, uint64_t tval, bool interrupt) {
  reservation_valid = false;
  const uint64_t deleg = interrupt ? mideleg : medeleg;
  const uint64_t code = cause | (interrupt ? uint64_t{1} << 63 : 0);
  const uint64_t vector_offset = interrupt ? 4 * cause : 0;
  if (priv != Priv::kMachine && ((deleg >> cause) & 1)) {
    scause = code;
    sepc = cur_pc_;
    stval = tval;
    uint64_t s = mstatus & ~(kSPIE | kSIE | kSPP);
    if (mstatus & kSIE) s |= kSPIE;
    if (priv == Priv::kSupervisor) s |= kSPP;
    mstatus = s;
    priv = Priv::kSupervisor;
    pc = (stvec & ~uint64_t{3}) + ((stvec & 1) ? vector_offset : 0);
  } else if (host_is_machine_mode) {
    machine_trap = {code, tval, cur_pc_};
    machine_trap_pending_ = true;
    end_block_ = true;
    return;
  } else {
    mcause = code;
    mepc = cur_pc_;
    mtval = tval;
    uint64_t m = mstatus & ~(kMPIE | kMIE | kMPP);
    if (mstatus & kMIE) m |= kMPIE;
    m |= uint64_t{level(priv)} << 11;
    mstatus = m;
    priv = Priv::kMachine;
    pc = (mtvec & ~uint64_t{3}) + ((mtvec & 1) ? vector_offset : 0);
  }
  after_mode_change();
}

void Cpu::xret(bool machine) {
  if (machine) {
    Priv to = static_cast<Priv>((mstatus & kMPP) >> 11);
    uint64_t m = mstatus & ~(kMIE | kMPP);
    if (mstatus & kMPIE) m |= kMIE;
    m |= kMPIE;
    if (to != Priv::kMachine) m &= ~kMPRV;
    mstatus = m;
    priv = to;
    pc = mepc;
  } else {
    Priv to = (mstatus & kSPP) ? Priv::kSupervisor : Priv::kUser;
    uint64_t s = mstatus & ~(kSIE | kSPP | kMPRV);
    if (mstatus & kSPIE) s |= kSIE;
    s |= kSPIE;
    mstatus = s;
    priv = to;
    pc = sepc;
  }
  after_mode_change();
}

void Cpu::update_timers(bool fresh) {
  if (fresh || cycle - clock_read_at_ >= kClockStride) {
    clock_reading_ = time();
    clock_read_at_ = cycle;
  }
  const uint64_t t = clock_reading_;
  mip = t >= mtimecmp ? mip | 1 << kMTI : mip & ~uint64_t{1 << kMTI};
  if (menvcfg & kMenvcfgSTCE) mip = t >= stimecmp ? mip | 1 << kSTI : mip & ~uint64_t{1 << kSTI};
}

uint64_t Cpu::next_timer_event() const {
  uint64_t t = mtimecmp;
  if ((menvcfg & kMenvcfgSTCE) && stimecmp < t) t = stimecmp;
  return t;
}

void Cpu::set_irq(Irq irq, bool level_high) {
  if (irq == kMTI || irq == kSTI) return;
  const uint64_t bit = uint64_t{1} << irq;
  mip = level_high ? mip | bit : mip & ~bit;
  // Let a running block see the new line at its next check.
  end_block_ = true;
}

bool Cpu::check_interrupts() {
  const uint64_t pending = mip & mie;
  if (!pending) return false;
  uint64_t take = 0;
  const uint64_t m_pending = pending & ~mideleg;
  if (m_pending && (priv != Priv::kMachine || (mstatus & kMIE))) {
    take = m_pending;
  } else {
    const uint64_t s_pending = pending & mideleg;
    const bool s_enabled = priv == Priv::kUser || (priv == Priv::kSupervisor && (mstatus & kSIE));
    if (s_pending && s_enabled) take = s_pending;
  }
  if (!take) return false;
  static constexpr Irq order[] = {kMEI, kMSI, kMTI, kSEI, kSSI, kSTI};
  for (Irq irq : order) {
    if (take & (uint64_t{1} << irq)) {
      cur_pc_ = pc;
      trap(irq, 0, true);
      return true;
    }
  }
  return false;
}

bool Cpu::counter_allowed(uint32_t index) const {
  if (priv == Priv::kMachine) return true;
  if (!((mcounteren >> index) & 1)) return false;
  return priv == Priv::kSupervisor || ((scounteren >> index) & 1);
}

bool Cpu::csr_read(uint32_t csr, uint64_t* value) {
  if (((csr >> 8) & 3) > level(priv)) return false;
  uint64_t v = 0;
  switch (csr) {
    case 0x001:
      if (!fp_enabled()) return false;
      v = fflags;
      break;
    case 0x002:
      if (!fp_enabled()) return false;
      v = frm;
      break;
    case 0x003:
      if (!fp_enabled()) return false;
      v = uint64_t{frm} << 5 | fflags;
      break;
    case 0x100:
      v = read_mstatus() & kSstatusVisible;
      break;
    case 0x104:
      v = mie & mideleg;
      break;
    case 0x105:
      v = stvec;
      break;
    case 0x106:
      v = scounteren;
      break;
    case 0x10a:
      v = senvcfg;
      break;
    case 0x140:
      v = sscratch;
      break;
    case 0x141:
      v = sepc;
      break;
    case 0x142:
      v = scause;
      break;
    case 0x143:
      v = stval;
      break;
    case 0x144:
      v = mip & mideleg;
      break;
    case 0x14d:
      if (priv == Priv::kSupervisor && (!(menvcfg & kMenvcfgSTCE) || !(mcounteren & 2)))
        return false;
      v = stimecmp;
      break;
    case 0x180:
      if (priv == Priv::kSupervisor && (mstatus & kTVM)) return false;
      v = satp;
      break;
    case 0x300:
      v = read_mstatus();
      break;
    case 0x301:
      v = kMisa;
      break;
    case 0x302:
      v = medeleg;
      break;
    case 0x303:
      v = mideleg;
      break;
    case 0x304:
      v = mie;
      break;
    case 0x305:
      v = mtvec;
      break;
    case 0x306:
      v = mcounteren;
      break;
    case 0x30a:
      v = menvcfg;
      break;
    case 0x320:
      v = 0;
      break;  // mcountinhibit: hardwired zero (WARL)
    case 0x340:
      v = mscratch;
      break;
    case 0x341:
      v = mepc;
      break;
    case 0x342:
      v = mcause;
      break;
    case 0x343:
      v = mtval;
      break;
    case 0x344:
      v = mip;
      break;
    case 0xb00:
      v = cycle;
      break;
    case 0xb02:
      v = instret;
      break;
    case 0xf11:
    case 0xf12:
    case 0xf13:
    case 0xf15:
      v = 0;
      break;
    case 0xf14:
      v = mhartid;
      break;
    default:
      if (csr >= 0xc00 && csr <= 0xc1f) {  // cycle, time, instret, hpmcounter3..31
        if (!counter_allowed(csr & 31)) return false;
        v = csr == 0xc00 ? cycle : csr == 0xc01 ? time() : csr == 0xc02 ? instret : 0;
      } else if (csr >= 0x3a0 && csr <= 0x3af) {
        if (csr & 1) return false;  // odd pmpcfg registers do not exist on RV64
        v = pmpcfg[(csr - 0x3a0) / 2];
      } else if (csr >= 0x3b0 && csr <= 0x3ef) {
        v = pmpaddr[csr - 0x3b0];
      } else if ((csr >= 0x323 && csr <= 0x33f) || (csr >= 0xb03 && csr <= 0xb1f)) {
        v = 0;  // mhpmevent3..31 and mhpmcounter3..31: hardwired zero
      } else {
        return false;
      }
  }
  *value = v;
  return true;
}

bool Cpu::csr_write(uint32_t csr, uint64_t v) {
  if (((csr >> 8) & 3) > level(priv) || (csr >> 10) == 3) return false;
  switch (csr) {
    case 0x001:
      if (!fp_enabled()) return false;
      fflags = v & 31;
      fp_dirty();
      break;
    case 0x002:
      if (!fp_enabled()) return false;
      frm = v & 7;
      fp_dirty();
      break;
    case 0x003:
      if (!fp_enabled()) return false;
      fflags = v & 31, frm = (v >> 5) & 7;
      fp_dirty();
      break;
    case 0x100:
      write_mstatus(v, kSstatusWritable);
      break;
    case 0x104:
      mie = (mie & ~mideleg) | (v & mideleg & kSupervisorIrqs);
      break;
    case 0x105:
      stvec = v & ~uint64_t{2};
      break;
    case 0x106:
      scounteren = v & 0xffffffff;
      break;
    case 0x10a:
      senvcfg = v & kMenvcfgFIOM;
      break;
    case 0x140:
      sscratch = v;
      break;
    case 0x141:
      sepc = v & ~uint64_t{1};
      break;
    case 0x142:
      scause = v;
      break;
    case 0x143:
      stval = v;
      break;
    case 0x144: {
      const uint64_t m = mideleg & (1 << kSSI);
      mip = (mip & ~m) | (v & m);
      break;
    }
    case 0x14d:
      if (priv == Priv::kSupervisor && (!(menvcfg & kMenvcfgSTCE) || !(mcounteren & 2)))
        return false;
      stimecmp = v;
      update_timers();
      break;
    case 0x180: {
      if (priv == Priv::kSupervisor && (mstatus & kTVM)) return false;
      const uint64_t mode = v >> 60;
      if (mode != 0 && mode != 8 && mode != 9) break;  // unsupported MODE: the write is ignored
      satp = v & (uint64_t{0xf} << 60 | ((uint64_t{1} << 44) - 1));  // ASIDLEN = 0
      flush_tlb();
      break;
    }
    case 0x300:
      write_mstatus(v, kMstatusWritable);
      break;
    case 0x301:
      break;  // misa is fixed (WARL)
    case 0x302:
      medeleg = v & kDelegableExceptions;
      break;
    case 0x303:
      mideleg = v & kSupervisorIrqs;
      break;
    case 0x304:
      mie = v & kAllIrqs;
      break;
    case 0x305:
      mtvec = v & ~uint64_t{2};
      break;
    case 0x306:
      mcounteren = v & 0xffffffff;
      break;
    case 0x30a:
      menvcfg = v & (kMenvcfgSTCE | kMenvcfgFIOM);
      update_timers();
      break;
    case 0x320:
      break;
    case 0x340:
      mscratch = v;
      break;
    case 0x341:
      mepc = v & ~uint64_t{1};
      break;
    case 0x342:
      mcause = v;
      break;
    case 0x343:
      mtval = v;
      break;
    case 0x344: {
      uint64_t m = 1 << kSSI | 1 << kSEI;
      if (!(menvcfg & kMenvcfgSTCE)) m |= 1 << kSTI;
      mip = (mip & ~m) | (v & m);
      break;
    }
    case 0xb00:
      cycle = v;
      break;
    case 0xb02:
      instret = v - 1;
      break;  // the writing instruction still retires after this
    default:
      if (csr >= 0x3a0 && csr <= 0x3af) {
        if (csr & 1) return false;
        pmpcfg[(csr - 0x3a0) / 2] = v;  // accepted; PMP grants everything
      } else if (csr >= 0x3b0 && csr <= 0x3ef) {
        pmpaddr[csr - 0x3b0] = v & ((uint64_t{1} << 54) - 1);
      } else if ((csr >= 0x323 && csr <= 0x33f) || (csr >= 0xb03 && csr <= 0xb1f)) {
        // hardwired zero
      } else {
        return false;
      }
  }
  return true;
}

}  // namespace c2w::riscv64
