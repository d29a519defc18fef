// The SBI (RISC-V Supervisor Binary Interface 2.0) implemented by the host playing M-mode:
// base, TIME, IPI, RFENCE, HSM, SRST, DBCN and the legacy (v0.1) calls Linux 6.1 uses for its
// early console and hvc0. The hart is single, so "remote" operations are local ones.
#include <cstdio>
#include <cstring>
#include <string>

#include "emulators/riscv64/machine.h"

namespace c2w::riscv64 {
namespace {

enum : int64_t {
  kSuccess = 0,
  kErrFailed = -1,
  kErrNotSupported = -2,
  kErrInvalidParam = -3,
  kErrInvalidAddress = -5,
  kErrAlreadyAvailable = -6,
};

enum : uint64_t {
  kLegacySetTimer = 0x00,
  kLegacyPutchar = 0x01,
  kLegacyGetchar = 0x02,
  kLegacyClearIpi = 0x03,
  kLegacySendIpi = 0x04,
  kLegacyRemoteFenceI = 0x05,
  kLegacyRemoteSfenceVma = 0x06,
  kLegacyRemoteSfenceVmaAsid = 0x07,
  kLegacyShutdown = 0x08,
  kExtBase = 0x10,
  kExtTime = 0x54494D45,
  kExtIpi = 0x735049,
  kExtRfence = 0x52464E43,
  kExtHsm = 0x48534D,
  kExtSrst = 0x53525354,
  kExtDbcn = 0x4442434E,
};

constexpr uint64_t kSpecVersion = uint64_t{2} << 24;  // 2.0
constexpr uint64_t kImplId = 0x6332;                  // "c2": not a registered SBI implementation
constexpr uint64_t kImplVersion = 1;
constexpr uint64_t kDbcnMaxChunk = 4096;  // bytes per DBCN call; the spec allows partial writes

bool is_legacy(uint64_t eid) {
  return eid <= kLegacyShutdown;
}

}  // namespace

void Machine::handle_sbi() {
  Cpu& c = *cpu_;
  const Cpu::MachineTrap t = c.machine_trap;
  if (t.cause != kEcallS) {
    char msg[96];
    std::snprintf(msg, sizeof msg, "unexpected trap to M-mode: mcause 0x%llx at pc 0x%llx",
                  static_cast<unsigned long long>(t.cause), static_cast<unsigned long long>(t.epc));
    error_ = msg;
    return;
  }
  const uint64_t eid = c.x[17], fid = c.x[16];
  const uint64_t a0 = c.x[10], a1 = c.x[11], a2 = c.x[12];
  int64_t err = kSuccess;
  uint64_t value = 0;
  auto fence = [&] { c.flush_caches(); };
  // One hart (id 0): a hart mask names it when base is -1 (all harts) or bit (0 - base) is set.
  auto mask_ok = [](uint64_t mask, uint64_t base, bool* hart0) {
    if (base == UINT64_MAX) return *hart0 = true, true;
    if (base != 0) return mask == 0 ? (*hart0 = false, true) : false;
    *hart0 = mask & 1;
    return (mask >> 1) == 0;
  };
  auto halt = [&](uint64_t type, uint64_t reason) {
    halted_ = true;
    rebooted_ = type != 0;
    exit_status_ = reason == 0 ? 0 : reason >= 0xF0000000 ? static_cast<int>(reason & 0xff) : 1;
  };

  if (is_legacy(eid)) {
    // Legacy calls return one value in a0 and leave a1 alone.
    int64_t ret = 0;
    switch (eid) {
      case kLegacySetTimer:
        c.stimecmp = a0;
        break;
      case kLegacyPutchar: {
        const auto ch = static_cast<uint8_t>(a0);
        emit(-1, &ch, 1);
        break;
      }
      case kLegacyGetchar:
        if (console_in_pos_ < console_in_.size()) {
          ret = static_cast<uint8_t>(console_in_[console_in_pos_++]);
          if (console_in_pos_ > (64 << 10))
            console_in_.erase(0, console_in_pos_), console_in_pos_ = 0;
        } else {
          ret = -1;
        }
        break;
      case kLegacyClearIpi:
        c.set_irq(kSSI, false);
        break;
      case kLegacySendIpi: {
        // a0 is the S-mode virtual address of a hart mask.
        uint64_t mask = 0;
        if (a0 == 0 || (c.peek(a0, 8, &mask) && (mask & 1))) c.set_irq(kSSI, true);
        break;
      }
      case kLegacyRemoteFenceI:
        break;
      case kLegacyRemoteSfenceVma:
      case kLegacyRemoteSfenceVmaAsid:
        fence();
        break;
      case kLegacyShutdown:
        halt(0, 0);
        break;
    }
    c.x[10] = static_cast<uint64_t>(ret);
    c.pc = t.epc + 4;
    return;
  }

  switch (eid) {
    case kExtBase:
      switch (fid) {
        case 0:
          value = kSpecVersion;
          break;
        case 1:
          value = kImplId;
          break;
        case 2:
          value = kImplVersion;
          break;
        case 3:
          value = is_legacy(a0) || a0 == kExtBase || a0 == kExtTime || a0 == kExtIpi ||
                  a0 == kExtRfence || a0 == kExtHsm || a0 == kExtSrst || a0 == kExtDbcn;
          break;
        case 4:  // mvendorid, marchid, mimpid: not a real core
        case 5:
        case 6:
          value = 0;
          break;
        default:
          err = kErrNotSupported;
      }
      break;
    case kExtTime:
      if (fid == 0)
        c.stimecmp = a0;
      else
        err = kErrNotSupported;
      break;
    case kExtIpi:
      if (fid == 0) {
        bool hart0 = false;
        if (!mask_ok(a0, a1, &hart0))
          err = kErrInvalidParam;
        else if (hart0)
          c.set_irq(kSSI, true);
      } else {
        err = kErrNotSupported;
      }
      break;
    case kExtRfence:
      if (fid <= 2) {
        bool hart0 = false;
        if (!mask_ok(a0, a1, &hart0))
          err = kErrInvalidParam;
        else if (hart0 && fid != 0)
          fence();  // instruction fetch is always coherent here
      } else {
        err = kErrNotSupported;  // hypervisor fences: no H extension
      }
      break;
    case kExtHsm:
      switch (fid) {
        case 0:  // hart_start: hart 0 is running, there is no other
          err = a0 == 0 ? kErrAlreadyAvailable : kErrInvalidParam;
          break;
        case 1:  // hart_stop: stopping the only hart would leave nothing to run
          err = kErrFailed;
          break;
        case 2:  // hart_get_status
          if (a0 == 0)
            value = 0;  // STARTED
          else
            err = kErrInvalidParam;
          break;
        case 3:  // hart_suspend: the default retentive suspend is a WFI
          if (a0 == 0)
            c.waiting = true;
          else if (a0 == 0x80000000)
            err = kErrNotSupported;
          else
            err = kErrInvalidParam;
          break;
        default:
          err = kErrNotSupported;
      }
      break;
    case kExtSrst:
      if (fid != 0)
        err = kErrNotSupported;
      else if (a0 > 2)
        err = kErrInvalidParam;
      else
        halt(a0, a1);
      break;
    case kExtDbcn: {
      const uint64_t addr = a1;  // on RV64 base_lo holds the whole address; base_hi must be 0
      if (fid == 2) {
        const auto ch = static_cast<uint8_t>(a0);
        emit(-1, &ch, 1);
        break;
      }
      if (fid > 1) {
        err = kErrNotSupported;
        break;
      }
      const uint64_t n = a0 < kDbcnMaxChunk ? a0 : kDbcnMaxChunk;
      uint8_t* p = a2 == 0 ? bus_->ram_ptr(addr, n) : nullptr;
      if (!p) {
        err = kErrInvalidParam;
      } else if (fid == 0) {
        emit(-1, p, n);
        value = n;
      } else {
        const uint64_t avail = console_in_.size() - console_in_pos_;
        value = n < avail ? n : avail;
        std::memcpy(p, console_in_.data() + console_in_pos_, value);
        console_in_pos_ += value;
      }
      break;
    }
    default:
      err = kErrNotSupported;
  }
  c.x[10] = static_cast<uint64_t>(err);
  if (err == kSuccess) c.x[11] = value;
  c.pc = t.epc + 4;
}

}  // namespace c2w::riscv64
