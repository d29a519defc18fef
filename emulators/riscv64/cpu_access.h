// Inline fast paths for guest loads and stores (private to the core's .cc files): a TLB hit on a
// RAM page is one compare and a host memcpy; everything else goes to the slow path in cpu_mmu.cc.
#pragma once

#include <cstring>

#include "emulators/riscv64/cpu.h"

namespace c2w::riscv64 {

template <typename T>
inline bool Cpu::load(uint64_t va, T* out) {
  const TlbEntry& e = tlb_[data_tlb_][kRead][(va >> 12) % kTlbSize];
  if (e.tag == (va & ~uint64_t{0xfff}) && e.host && (va & (sizeof(T) - 1)) == 0) {
    std::memcpy(out, e.host + (va & 0xfff), sizeof(T));
    return true;
  }
  uint64_t v;
  if (!load_slow(va, sizeof(T), &v)) return false;
  *out = static_cast<T>(v);
  return true;
}

template <typename T>
inline bool Cpu::store(uint64_t va, T value) {
  const TlbEntry& e = tlb_[data_tlb_][kWrite][(va >> 12) % kTlbSize];
  if (e.tag == (va & ~uint64_t{0xfff}) && e.host && (va & (sizeof(T) - 1)) == 0) {
    std::memcpy(e.host + (va & 0xfff), &value, sizeof(T));
    return true;
  }
  return store_slow(va, sizeof(T), static_cast<uint64_t>(value));
}

}  // namespace c2w::riscv64
