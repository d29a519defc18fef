// A bounds-checked view of guest RAM for devices (virtqueues, DMA-like copies). Guest physical
// addresses and lengths are untrusted: every access is checked against [phys, phys + size) with
// overflow-safe arithmetic, and a miss is reported, never performed.
#pragma once

#include <cstdint>
#include <cstring>

namespace c2w::emulators {

// The guest page: the unit of RAM in snapshots, packed modules and the MEMORY size.
inline constexpr uint64_t kGuestPageSize = 4096;

struct GuestRam {
  uint8_t* base = nullptr;
  uint64_t phys = 0;  // guest physical address of base[0]
  uint64_t size = 0;

  // Host pointer for [pa, pa + len), or nullptr if any byte lies outside RAM.
  uint8_t* ptr(uint64_t pa, uint64_t len) const {
    const uint64_t off = pa - phys;
    if (pa < phys || off > size || len > size - off) return nullptr;
    return base + off;
  }
  bool read(uint64_t pa, void* dst, uint64_t len) const {
    const uint8_t* p = ptr(pa, len);
    if (!p) return false;
    if (len) std::memcpy(dst, p, len);
    return true;
  }
  bool write(uint64_t pa, const void* src, uint64_t len) const {
    uint8_t* p = ptr(pa, len);
    if (!p) return false;
    if (len) std::memcpy(p, src, len);
    return true;
  }
  // Little-endian scalar access (the host is little-endian; bus.cc asserts it).
  template <typename T>
  bool load(uint64_t pa, T* v) const {
    return read(pa, v, sizeof(T));
  }
  template <typename T>
  bool store(uint64_t pa, T v) const {
    return write(pa, &v, sizeof(T));
  }
};

}  // namespace c2w::emulators
