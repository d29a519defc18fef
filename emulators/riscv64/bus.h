// The physical address space of a riscv64 machine: one contiguous RAM block at kRamBase plus
// MMIO devices. Every access is bounds-checked; a miss is reported as `false` (the CPU turns it
// into an access fault) and never touches host memory outside the RAM buffer.
#pragma once

#include <cstdint>
#include <vector>

#include "emulators/common/guest_ram.h"

namespace c2w::riscv64 {

// A memory-mapped device. Offsets are relative to the device's base and already checked to lie
// inside its window; size is 1, 2, 4 or 8. Returning false makes the access fault.
class Device {
 public:
  virtual ~Device() = default;
  virtual bool read(uint64_t offset, unsigned size, uint64_t* value) = 0;
  virtual bool write(uint64_t offset, unsigned size, uint64_t value) = 0;
};

class Bus {
 public:
  static constexpr uint64_t kRamBase = 0x80000000;
  static constexpr uint64_t kPageSize = emulators::kGuestPageSize;

  // Owns a zeroed RAM buffer of ram_size bytes (rounded up to whole pages). The buffer is
  // mapped lazily (calloc, or on Linux an anonymous mapping with transparent huge pages), so
  // pages the guest never touches cost the host nothing. If the allocation fails, ram() is
  // null and ram_size() is 0.
  explicit Bus(uint64_t ram_size);
  ~Bus();
  // Uses caller-provided RAM (e.g. a buffer placed by the wasm packer); size must be page-aligned.
  Bus(uint8_t* ram, uint64_t ram_size);

  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  uint8_t* ram() const { return ram_; }
  uint64_t ram_size() const { return ram_size_; }

  // Host pointer for [pa, pa+len) if it lies wholly inside RAM, else nullptr.
  uint8_t* ram_ptr(uint64_t pa, uint64_t len) const {
    uint64_t off = pa - kRamBase;
    if (pa < kRamBase || off > ram_size_ || len > ram_size_ - off) return nullptr;
    return ram_ + off;
  }

  // Maps a device; fails if the window is empty or overlaps RAM or another device.
  bool add_device(uint64_t base, uint64_t size, Device* dev);

  // Little-endian physical access of 1, 2, 4 or 8 bytes to RAM or a device.
  bool read(uint64_t pa, unsigned size, uint64_t* value);
  bool write(uint64_t pa, unsigned size, uint64_t value);

 private:
  struct Mapping {
    uint64_t base, size;
    Device* dev;
  };
  const Mapping* find(uint64_t pa, unsigned size) const;

  void* owned_ = nullptr;  // what to release: a calloc block, or on Linux maybe a mapping
#if defined(__linux__)
  uint64_t owned_len_ = 0;
  bool mapped_ = false;
#endif
  uint8_t* ram_ = nullptr;
  uint64_t ram_size_ = 0;
  std::vector<Mapping> devices_;
};

}  // namespace c2w::riscv64
