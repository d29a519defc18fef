// Address translation (Sv39, Sv48), the TLBs and the slow paths of loads and stores.
#include <cstring>

#include "emulators/riscv64/cpu.h"
#include "emulators/riscv64/cpu_access.h"

namespace c2w::riscv64 {
namespace {

constexpr uint64_t kPteV = 1, kPteR = 2, kPteW = 4, kPteX = 8, kPteU = 16, kPteA = 64, kPteD = 128;
constexpr uint64_t kPpnMask = (uint64_t{1} << 44) - 1;

}  // namespace

void Cpu::flush_tlb() {
  for (auto& mode : tlb_)
    for (auto& access : mode)
      for (TlbEntry& e : access) e = {kNoTag, nullptr, 0};
  fetch_page_ = kNoTag;
}

uint64_t Cpu::translate(uint64_t va, Access access, Priv mode, uint64_t* pa) {
  static constexpr uint64_t page_fault[3] = {kLoadPageFault, kStorePageFault, kInstPageFault};
  static constexpr uint64_t access_fault[3] = {kLoadAccess, kStoreAccess, kInstAccess};
  const uint64_t satp_mode = satp >> 60;
  if (mode == Priv::kMachine || satp_mode == 0) {
    *pa = va;
    return 0;
  }
  const int levels = satp_mode == 8 ? 3 : 4;
  const int va_bits = 12 + 9 * levels;
  // Virtual addresses must be sign-extended from the top translated bit.
  if (static_cast<uint64_t>(static_cast<int64_t>(va << (64 - va_bits)) >> (64 - va_bits)) != va)
    return page_fault[access];
  uint64_t table = (satp & kPpnMask) << 12;
  for (int i = levels - 1; i >= 0; --i) {
    const uint64_t pte_pa = table + ((va >> (12 + 9 * i)) & 511) * 8;
    uint8_t* p = bus_.ram_ptr(pte_pa, 8);
    if (!p) return access_fault[access];
    uint64_t pte;
    std::memcpy(&pte, p, 8);
    // Bits 63:54 (N, PBMT, reserved) must be zero: Svnapot and Svpbmt are not implemented.
    if (!(pte & kPteV) || (!(pte & kPteR) && (pte & kPteW)) || (pte >> 54) != 0)
      return page_fault[access];
    if (!(pte & (kPteR | kPteX))) {
      table = ((pte >> 10) & kPpnMask) << 12;
      continue;
    }
    const bool user_page = pte & kPteU;
    if (mode == Priv::kUser && !user_page) return page_fault[access];
    if (mode == Priv::kSupervisor && user_page && (access == kExec || !(mstatus & mstatus::kSUM)))
      return page_fault[access];
    bool ok = false;
    switch (access) {
      case kRead:
        ok = (pte & kPteR) || ((mstatus & mstatus::kMXR) && (pte & kPteX));
        break;
      case kWrite:
        ok = pte & kPteW;
        break;
      case kExec:
        ok = pte & kPteX;
        break;
    }
    if (!ok) return page_fault[access];
    const uint64_t ppn = (pte >> 10) & kPpnMask;
    const uint64_t low_ppn = (uint64_t{1} << (9 * i)) - 1;
    if (ppn & low_ppn) return page_fault[access];  // misaligned superpage
    // Hardware A/D update, done before the access is used so the TLB never caches a write
    // permission for a page whose D bit is clear.
    const uint64_t updated = pte | kPteA | (access == kWrite ? kPteD : 0);
    if (updated != pte) std::memcpy(p, &updated, 8);
    const uint64_t offset_mask = (uint64_t{1} << (12 + 9 * i)) - 1;
    *pa = ((ppn << 12) & ~offset_mask) | (va & offset_mask);
    return 0;
  }
  return page_fault[access];
}

Cpu::TlbEntry* Cpu::tlb_fill(uint64_t va, Access access, uint64_t* cause) {
  TlbEntry& e = tlb_[access == kExec ? exec_tlb_ : data_tlb_][access][(va >> 12) % kTlbSize];
  // Hits here are MMIO pages, page-crossing accesses and fetches entering a new page.
  if (e.tag == (va & ~uint64_t{0xfff})) return &e;
  const Priv mode = access == kExec ? priv : data_priv_;
  uint64_t pa;
  *cause = translate(va, access, mode, &pa);
  if (*cause) return nullptr;
  e.tag = va & ~uint64_t{0xfff};
  e.ppage = pa & ~uint64_t{0xfff};
  e.host = bus_.ram_ptr(e.ppage, Bus::kPageSize);
  return &e;
}

bool Cpu::load_slow(uint64_t va, unsigned size, uint64_t* value) {
  uint64_t cause;
  const uint64_t last = va + size - 1;
  if ((va & (size - 1)) == 0) {
    TlbEntry* e = tlb_fill(va, kRead, &cause);
    if (!e) return trap(cause, va), false;
    uint64_t v = 0;
    if (e->host)
      std::memcpy(&v, e->host + (va & 0xfff), size);
    else if (!bus_.read(e->ppage | (va & 0xfff), size, &v))
      return trap(kLoadAccess, va), false;
    *value = v;
    return true;
  }
  // Misaligned: performed here, byte by byte from RAM, after both pages are checked.
  TlbEntry* e1 = tlb_fill(va, kRead, &cause);
  if (!e1) return trap(cause, va), false;
  uint8_t* h1 = e1->host;
  uint8_t* h2 = h1;
  if ((last ^ va) >> 12) {
    TlbEntry* e2 = tlb_fill(last & ~uint64_t{0xfff}, kRead, &cause);
    if (!e2) return trap(cause, last & ~uint64_t{0xfff}), false;
    h2 = e2->host;
  }
  if (!h1) return trap(kLoadAccess, va), false;
  if (!h2) return trap(kLoadAccess, last & ~uint64_t{0xfff}), false;
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    const uint64_t b = va + i;
    const uint8_t* h = ((b ^ va) >> 12) ? h2 : h1;
    v |= uint64_t{h[b & 0xfff]} << (8 * i);
  }
  *value = v;
  return true;
}

bool Cpu::store_slow(uint64_t va, unsigned size, uint64_t value) {
  uint64_t cause;
  const uint64_t last = va + size - 1;
  if ((va & (size - 1)) == 0) {
    TlbEntry* e = tlb_fill(va, kWrite, &cause);
    if (!e) return trap(cause, va), false;
    if (e->host)
      std::memcpy(e->host + (va & 0xfff), &value, size);
    else if (!bus_.write(e->ppage | (va & 0xfff), size, value))
      return trap(kStoreAccess, va), false;
    return true;
  }
  TlbEntry* e1 = tlb_fill(va, kWrite, &cause);
  if (!e1) return trap(cause, va), false;
  uint8_t* h1 = e1->host;
  uint8_t* h2 = h1;
  if ((last ^ va) >> 12) {
    TlbEntry* e2 = tlb_fill(last & ~uint64_t{0xfff}, kWrite, &cause);
    if (!e2) return trap(cause, last & ~uint64_t{0xfff}), false;
    h2 = e2->host;
  }
  if (!h1) return trap(kStoreAccess, va), false;
  if (!h2) return trap(kStoreAccess, last & ~uint64_t{0xfff}), false;
  for (unsigned i = 0; i < size; ++i) {
    const uint64_t b = va + i;
    uint8_t* h = ((b ^ va) >> 12) ? h2 : h1;
    h[b & 0xfff] = static_cast<uint8_t>(value >> (8 * i));
  }
  return true;
}

bool Cpu::amo_locate(uint64_t va, unsigned size, Access access, uint8_t** host, uint64_t* pa) {
  (void)size;  // aligned by the caller, so never crosses a page
  uint64_t cause;
  TlbEntry* e = tlb_fill(va, access, &cause);
  if (!e) return trap(cause, va), false;
  *host = e->host ? e->host + (va & 0xfff) : nullptr;
  *pa = e->ppage | (va & 0xfff);
  return true;
}

bool Cpu::peek(uint64_t va, unsigned size, uint64_t* value) {
  uint64_t v = 0;
  for (unsigned i = 0; i < size; ++i) {
    uint64_t pa, byte;
    if (translate(va + i, kRead, data_priv_, &pa) || !bus_.read(pa, 1, &byte)) return false;
    v |= byte << (8 * i);
  }
  *value = v;
  return true;
}

}  // namespace c2w::riscv64
