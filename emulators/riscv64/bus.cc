#include "emulators/riscv64/bus.h"

#include <bit>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace c2w::riscv64 {

static_assert(std::endian::native == std::endian::little,
              "RAM is accessed with host loads; a big-endian host would need byte swaps");

Bus::Bus(uint64_t ram_size) {
  ram_size = (ram_size + kPageSize - 1) & ~(kPageSize - 1);
  if (ram_size == 0 || static_cast<uint64_t>(static_cast<size_t>(ram_size)) != ram_size) return;
#if defined(__linux__)
  // A booting kernel touches all of RAM (memblock, init_on_free); with 4 KiB pages that is one
  // host page fault per guest page, which cost 15-20% of a Linux boot on a virtualized host.
  // 2 MiB-aligned memory lets the host back it with transparent huge pages.
  constexpr uint64_t kHuge = 2 << 20;
  const uint64_t len = ram_size + kHuge;
  void* p = mmap(nullptr, static_cast<size_t>(len), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) {
    owned_ = p;
    owned_len_ = len;
    mapped_ = true;
    const uint64_t aligned = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
    ram_ = reinterpret_cast<uint8_t*>(aligned);
    madvise(ram_, static_cast<size_t>(ram_size), MADV_HUGEPAGE);
    ram_size_ = ram_size;
    return;
  }
#endif
  owned_ = std::calloc(static_cast<size_t>(ram_size), 1);
  if (!owned_) return;
  ram_ = static_cast<uint8_t*>(owned_);
  ram_size_ = ram_size;
}

Bus::~Bus() {
#if defined(__linux__)
  if (mapped_) {
    munmap(owned_, static_cast<size_t>(owned_len_));
    return;
  }
#endif
  std::free(owned_);
}

Bus::Bus(uint8_t* ram, uint64_t ram_size) : ram_(ram), ram_size_(ram_size & ~(kPageSize - 1)) {}

bool Bus::add_device(uint64_t base, uint64_t size, Device* dev) {
  if (size == 0 || dev == nullptr || base + size < base) return false;
  auto overlaps = [&](uint64_t b, uint64_t s) { return base < b + s && b < base + size; };
  if (overlaps(kRamBase, ram_size_)) return false;
  for (const Mapping& m : devices_)
    if (overlaps(m.base, m.size)) return false;
  devices_.push_back({base, size, dev});
  return true;
}

const Bus::Mapping* Bus::find(uint64_t pa, unsigned size) const {
  for (const Mapping& m : devices_)
    if (pa >= m.base && pa - m.base < m.size && size <= m.size - (pa - m.base)) return &m;
  return nullptr;
}

bool Bus::read(uint64_t pa, unsigned size, uint64_t* value) {
  if (uint8_t* p = ram_ptr(pa, size)) {
    uint64_t v = 0;
    std::memcpy(&v, p, size);
    *value = v;
    return true;
  }
  const Mapping* m = find(pa, size);
  if (!m) return false;
  uint64_t v = 0;
  if (!m->dev->read(pa - m->base, size, &v)) return false;
  *value = size == 8 ? v : v & ((uint64_t{1} << (size * 8)) - 1);
  return true;
}

bool Bus::write(uint64_t pa, unsigned size, uint64_t value) {
  if (uint8_t* p = ram_ptr(pa, size)) {
    std::memcpy(p, &value, size);
    return true;
  }
  const Mapping* m = find(pa, size);
  return m && m->dev->write(pa - m->base, size, value);
}

}  // namespace c2w::riscv64
