// One RV64GC hart (IMAFDC, Zicsr, Zifencei, Sstc) with M, S and U modes, Sv39/Sv48 paging and
// the privileged-spec trap model, attached to a Bus. It promises:
//  - exact architectural behaviour for everything Linux and its userland use; reserved encodings
//    and unimplemented CSRs raise illegal-instruction as the privileged spec says;
//  - no host crash on any guest value: every access goes through translation and the bus;
//  - traps are reported by return values internally (no C++ exceptions, no longjmp), so the same
//    code runs in wasm32-wasi;
//  - all architectural state lives in plain public fields (see "State"), so a snapshot writer can
//    serialize it field by field; the caches below are rebuilt by flush_caches() after restore.
//
// The page walker sets A and D itself (hardware A/D update, as Svadu describes), so Linux never
// takes a fault just to set them. Misaligned loads and stores are performed by the core, also
// across page boundaries; misaligned LR/SC/AMO raise address-misaligned.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "emulators/riscv64/bus.h"
#include "emulators/riscv64/decode.h"

namespace c2w::riscv64 {

enum class Priv : uint8_t { kUser = 0, kSupervisor = 1, kMachine = 3 };

enum class Exit : uint8_t {
  kBudget,       // executed max_instructions
  kWfi,          // the hart waits for an interrupt: sleep until next_timer_event() or an IRQ
  kHostEvent,    // request_exit() was called (e.g. by a device)
  kMachineTrap,  // host_is_machine_mode and a trap had to enter M-mode: see machine_trap
};

// Exception causes (mcause with the interrupt bit clear).
enum Cause : uint64_t {
  kInstMisaligned = 0,
  kInstAccess = 1,
  kIllegal = 2,
  kBreakpoint = 3,
  kLoadMisaligned = 4,
  kLoadAccess = 5,
  kStoreMisaligned = 6,
  kStoreAccess = 7,
  kEcallU = 8,
  kEcallS = 9,
  kEcallM = 11,
  kInstPageFault = 12,
  kLoadPageFault = 13,
  kStorePageFault = 15,
};

// Interrupt numbers, also their bit in mip/mie.
enum Irq : unsigned { kSSI = 1, kMSI = 3, kSTI = 5, kMTI = 7, kSEI = 9, kMEI = 11 };

namespace mstatus {
inline constexpr uint64_t kSIE = 1 << 1, kMIE = 1 << 3, kSPIE = 1 << 5, kMPIE = 1 << 7,
                          kSPP = 1 << 8, kMPP = 3 << 11, kFS = 3 << 13, kMPRV = 1 << 17,
                          kSUM = 1 << 18, kMXR = 1 << 19, kTVM = 1 << 20, kTW = 1 << 21,
                          kTSR = 1 << 22, kUXL = uint64_t{3} << 32, kSXL = uint64_t{3} << 34,
                          kSD = uint64_t{1} << 63;
}

// About 80 KiB (TLBs) plus a 4 MiB heap block of decoded instructions: allocate it statically or on
// the heap, never on a wasm32 stack (64 KiB by default).
class Cpu {
 public:
  // `clock` returns the platform timer (mtime / the `time` CSR) in ticks of timebase_hz.
  using Clock = uint64_t (*)(void* ctx);
  static constexpr uint64_t kTimebaseHz = 10'000'000;

  Cpu(Bus& bus, Clock clock, void* clock_ctx);

  // Runs until max_instructions have retired or trapped, WFI, or request_exit().
  Exit run(uint64_t max_instructions);
  void request_exit() { exit_requested_ = end_block_ = true; }

  // Level-triggered interrupt lines driven by devices (MEI, SEI, MSI, SSI); not MTIP/STIP, which
  // follow mtimecmp and stimecmp. The SEI line is stored in mip.SEIP itself, so M-mode software
  // writes to SEIP and the external line are not kept apart (no firmware here uses them both).
  void set_irq(Irq irq, bool level);
  // The earliest time (in clock ticks) at which a timer interrupt becomes pending, for WFI.
  uint64_t next_timer_event() const;
  uint64_t time() const { return clock_(clock_ctx_); }

  // Call after changing state fields from outside (snapshot restore, tests poking satp/priv).
  void flush_caches();

  // Reads/writes a CSR as an instruction at the current privilege would; false if that would be
  // an illegal instruction. Used by the executor and by tests.
  bool csr_read(uint32_t csr, uint64_t* value);
  bool csr_write(uint32_t csr, uint64_t value);

  // Guest-virtual memory read at the current data privilege, without raising traps; for tests
  // and debuggers. Returns false on any fault. The walk may set A bits like a real access.
  bool peek(uint64_t va, unsigned size, uint64_t* value);

  // ---- Configuration (set by the machine, not guest state) ----
  // When true the host plays M-mode (SBI implemented in the emulator, no firmware): a trap that
  // would enter M-mode, such as an SBI ecall from S, is not taken. run() returns
  // Exit::kMachineTrap, the hart is left as it was before the trapping instruction (pc at it)
  // and machine_trap describes the trap; the host handles it (e.g. sets a0/a1, pc += 4).
  bool host_is_machine_mode = false;
  struct MachineTrap {
    uint64_t cause = 0;  // mcause encoding (interrupt bit 63)
    uint64_t tval = 0;
    uint64_t epc = 0;
  } machine_trap;

  // ---- State (serialize these) ----
  uint64_t x[32] = {};
  uint64_t f[32] = {};
  uint64_t pc = Bus::kRamBase;
  Priv priv = Priv::kMachine;
  uint64_t mstatus = 0;
  uint64_t medeleg = 0, mideleg = 0, mie = 0, mip = 0;
  uint64_t mtvec = 0, mscratch = 0, mepc = 0, mcause = 0, mtval = 0;
  uint64_t mcounteren = 0, mcountinhibit = 0, menvcfg = 0;
  uint64_t stvec = 0, sscratch = 0, sepc = 0, scause = 0, stval = 0;
  uint64_t scounteren = 0, senvcfg = 0, satp = 0;
  uint64_t cycle = 0, instret = 0;
  uint64_t mtimecmp = ~uint64_t{0}, stimecmp = ~uint64_t{0};
  uint8_t fflags = 0, frm = 0;
  uint64_t pmpcfg[8] = {}, pmpaddr[64] = {};
  uint64_t mhartid = 0;
  bool reservation_valid = false;
  uint64_t reservation_addr = 0;
  bool waiting = false;  // in WFI

 private:
  enum Access : uint8_t { kRead = 0, kWrite = 1, kExec = 2 };
  struct TlbEntry {
    uint64_t tag;    // virtual page address, or kNoTag
    uint8_t* host;   // host address of the page in RAM, or nullptr for MMIO
    uint64_t ppage;  // physical page address
  };
  static constexpr uint64_t kNoTag = ~uint64_t{0};
  static constexpr unsigned kTlbSize = 256;
  // A decoded instruction and the raw bits it was decoded from (see run_block()).
  struct Slot {
    uint32_t raw;
    Insn insn;
  };
  // Slots for 2^bits 2-byte code locations: 4 MiB of slots cover 512 KiB of physical memory
  // before two code pages share slots.
  static constexpr unsigned kSlotBitsMax = 18, kSlotBitsMin = 11;

  // cpu_run.cc
  uint64_t run_block(uint64_t n);
  bool execute(const Insn& d, uint64_t pc0);
  bool exec_amo(const Insn& d);
  bool fetch_slow(uint64_t pc0, uint32_t* raw);

  // cpu_csr.cc
  void trap(uint64_t cause, uint64_t tval, bool interrupt = false);
  bool illegal();
  bool check_interrupts();
  // Sets or clears the timer interrupt lines from the clock. `fresh`: read the host clock now;
  // otherwise a reading taken fewer than kClockStride cycles ago is reused.
  void update_timers(bool fresh = false);
  uint64_t read_mstatus() const;
  void write_mstatus(uint64_t value, uint64_t mask);
  bool counter_allowed(uint32_t index) const;
  void xret(bool machine);
  void after_mode_change();

  // cpu_mmu.cc
  // Translates va for an access in `mode`; on failure returns the exception cause (else 0).
  uint64_t translate(uint64_t va, Access access, Priv mode, uint64_t* pa);
  // The TLB entry for va's page (walking the page table on a miss), or nullptr with *cause.
  TlbEntry* tlb_fill(uint64_t va, Access access, uint64_t* cause);
  void flush_tlb();
  bool load_slow(uint64_t va, unsigned size, uint64_t* value);
  bool store_slow(uint64_t va, unsigned size, uint64_t value);
  // Host pointer (or nullptr for MMIO with *pa set) for an aligned AMO/LR/SC location.
  bool amo_locate(uint64_t va, unsigned size, Access access, uint8_t** host, uint64_t* pa);

  template <typename T>
  bool load(uint64_t va, T* out);
  template <typename T>
  bool store(uint64_t va, T value);

  // cpu_fp.cc
  bool exec_fp(const Insn& d);
  bool exec_fp_host(const Insn& d, unsigned rm);
  bool fp_enabled() const { return (mstatus & mstatus::kFS) != 0; }
  void fp_dirty() { mstatus |= mstatus::kFS; }

  Bus& bus_;
  Clock clock_;
  void* clock_ctx_;
  // Reading the host clock is a call out of the sandbox (WASI clock_time_get; in a browser a
  // JS function). Blocks end at every trap and xRET, so a system-call-heavy guest read it twice
  // per call; now it is read at every run() entry and otherwise at most every kClockStride
  // cycles, and a timer fires at most that many instructions late (microseconds). rdtime
  // still reads the clock every time.
  static constexpr uint64_t kClockStride = 4096;
  uint64_t clock_reading_ = 0, clock_read_at_ = 0;  // the last reading and `cycle` then
  bool exit_requested_ = false;
  bool machine_trap_pending_ = false;
  bool end_block_ = false;           // leave the inner loop to re-check interrupts / modes
  uint64_t cur_pc_ = 0;              // pc of the instruction being executed (epc of traps)
  Priv data_priv_ = Priv::kMachine;  // effective privilege for loads/stores (MPRV)
  uint64_t fetch_page_ = kNoTag;     // virtual page the cached fetch pointer belongs to
  uint8_t* fetch_host_ = nullptr;
  Slot* fetch_slots_ = nullptr;  // the slots of the physical page of fetch_page_
  // [U, S, S with SUM, M][read, write, exec]: SUM picks a TLB instead of flushing one, because
  // Linux toggles it around every user copy.
  TlbEntry tlb_[4][3][kTlbSize];
  unsigned data_tlb_ = 3;  // index for loads/stores (follows priv, MPRV/MPP and SUM)
  unsigned exec_tlb_ = 3;  // index for fetches (follows priv)
  uint32_t cur_raw_ = 0;   // bits of the instruction being executed (tval of illegal insns)
  struct FreeSlots {
    void operator()(Slot* p) const { std::free(p); }
  };
  std::unique_ptr<Slot, FreeSlots> slots_;  // indexed by (physical address >> 1) & slot_mask_
  uint64_t slot_mask_ = 0;
};

}  // namespace c2w::riscv64
