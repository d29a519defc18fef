// pack: the wasm32 build of the emulator (the "runtime") + a machine snapshot -> out.wasm, a
// module whose instantiation is the restore (docs/DESIGN.md, "The pack format and the browser
// target").
//
// Where the machine goes. The runtime reserves two zero-initialized arrays at link time (.bss):
// one for guest RAM, one for the machine's state. Being .bss they lie below __heap_base, so the
// C library's allocator never hands them out. (Memory above the runtime's initial size is not
// safe: wasi-libc's malloc claims everything from __heap_base to the end of memory at start-up,
// so a raised memory minimum would be the heap, and the machine in it overwritten.) Pack fills
// the two regions with active data segments, which instantiation copies over the zeros, and
// leaves the memory section (limits) as linked.
//
// Pack info, version 2. The runtime exports `c2w_pack_info`, an i32 constant global holding the
// address of 8 little-endian u32 inside one of its active data segments:
//   [0] magic "C2WP" (0x50573243)        [1] version 2
//   [2] ram_base: the RAM region         [3] ram_capacity: its size in bytes
//   [4] state_addr: the state region     [5] state_capacity: its size in bytes
//   [6] ram_size: guest RAM bytes        [7] state_len: state bytes
// Words 0..5 are set by the runtime; words 6 and 7 are 0 in the runtime as linked and written
// by pack (a runtime that reads ram_size == 0 holds no machine). The runtime must not write
// either region before it has read words 6 and 7.
//
// Pack places
//   RAM page i at ram_base + i * 4096: stored (non-zero) pages become active data segments,
//              adjacent pages merged into one segment; pages not stored stay .bss zeros
//   the state  at state_addr, one segment: the snapshot with 0 pages stored in its RAM
//              section, for Machine::restore with RAM preloaded
// writes words 6 and 7, and copies everything else in the runtime unchanged (only the data
// section and, if present, the DataCount section change).
//
// Pack refuses, with an error that names the problem: a module that is not a runtime (no such
// export, bad magic, imported memory, data segments it cannot place); a pack info version other
// than 2 (version 1 runtimes expected pack to raise the memory, see above); ram_base not
// 4096-aligned or state_addr not 16-aligned; a region not inside the initial memory (min pages
// * 64 KiB), overlapping the other region, or overlapping any active data segment of the
// runtime (the regions are .bss: nothing is initialized there); an already packed runtime
// (word 6 or 7 non-zero); a machine whose RAM exceeds ram_capacity (lower MEMORY in the recipe)
// or whose state exceeds state_capacity.
//
// If the data segments would exceed `max_segments`, the RAM segments separated by the smallest
// runs of zero pages are merged (gaps filled with zeros), lowest address first among equal gaps.
// Same inputs -> same output bytes. Hostile inputs get an error, never a crash.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "emulators/common/guest_ram.h"
#include "ops/pack/wasm_module.h"

namespace c2w::pack {

inline constexpr uint32_t kPackInfoMagic = 0x50573243;  // "C2WP" as little-endian bytes
inline constexpr uint32_t kPackInfoVersion = 2;
inline constexpr char kPackInfoExport[] = "c2w_pack_info";
inline constexpr uint32_t kPackInfoWords = 8;
inline constexpr uint32_t kRamBaseAlign = emulators::kGuestPageSize;  // pages map 1:1
inline constexpr uint32_t kStateAddrAlign = 16;

struct PackOptions {
  uint32_t max_segments = 100000;  // data segments per module that V8 accepts
};

// What pack did. All zero when pack fails.
struct PackReport {
  uint64_t ram_base = 0, ram_capacity = 0;      // the runtime's RAM region (words 2, 3)
  uint64_t state_addr = 0, state_capacity = 0;  // its state region (words 4, 5)
  uint64_t ram_size = 0;                        // guest RAM bytes (word 6)
  uint64_t state_len = 0;                       // the state without RAM pages (word 7)
  uint64_t pages_stored = 0;                    // non-zero guest pages carried by the module
  uint64_t page_bytes = 0;                      // pages_stored * 4096
  uint64_t zero_fill_bytes = 0;  // zeros added by merging segments across gaps (0: none merged)
  uint32_t segments_before = 0;  // data segments of the runtime
  uint32_t segments_added = 0;   // RAM segments + 1 for the state
  // The runtime's initial memory in 64 KiB wasm pages. Pack does not change the memory, so
  // the two are always equal; both are reported so that a reader of the report sees it.
  uint32_t memory_pages_before = 0, memory_pages_after = 0;
};

struct PackResult {
  Bytes wasm;
  PackReport report;
};

bool pack(std::span<const uint8_t> runtime_wasm, std::span<const uint8_t> snapshot,
          const PackOptions& options, PackResult* out, std::string* error);

}  // namespace c2w::pack
