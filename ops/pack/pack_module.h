// pack: the wasm32 build of the emulator (the "runtime") + a machine snapshot -> out.wasm, a
// module whose instantiation is the restore (DESIGN.md, "The pipeline as a graph" -> pack).
//
// The runtime exports `c2w_pack_info`, an i32 global holding the address of 8 little-endian
// u32 in an active data segment: magic "C2WP" (0x50573243), version 1, ram_base, ram_size,
// state_addr, state_len, 0, 0. Pack lays the machine out above the runtime's memory:
//
//   ram_base   = the runtime's initial memory size (min pages * 64 KiB)
//   RAM page i = at ram_base + i * 4096; stored (non-zero) pages become active data segments,
//                adjacent pages merged into one segment
//   state      = at state_addr = ram_base + ram_size (16-aligned): the snapshot with 0 pages
//                stored in its RAM section, for Machine::restore with RAM preloaded
//   memory min = enough 64 KiB pages for state_addr + state_len (max raised to match)
//
// and writes words 2..5 of the pack info. Everything else in the runtime is copied unchanged.
// If the data segments would exceed `max_segments`, the RAM segments separated by the smallest
// runs of zero pages are merged (gaps filled with zeros), lowest address first among equal gaps.
// Same inputs -> same output bytes. Errors say what was wrong with which input.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "ops/pack/wasm_module.h"

namespace c2w::pack {

inline constexpr uint32_t kPackInfoMagic = 0x50573243;  // "C2WP" as little-endian bytes
inline constexpr uint32_t kPackInfoVersion = 1;
inline constexpr char kPackInfoExport[] = "c2w_pack_info";
inline constexpr uint32_t kPackInfoWords = 8;

struct PackOptions {
  uint32_t max_segments = 100000;  // data segments per module that V8 accepts
};

struct PackReport {
  uint64_t ram_base = 0, ram_size = 0;     // where guest RAM sits in linear memory
  uint64_t state_addr = 0, state_len = 0;  // the state without RAM pages
  uint64_t pages_stored = 0;               // non-zero guest pages carried by the module
  uint64_t page_bytes = 0;                 // pages_stored * 4096
  uint64_t zero_fill_bytes = 0;            // zeros added by merging segments across gaps
  uint32_t segments_before = 0;            // data segments of the runtime
  uint32_t segments_added = 0;             // RAM segments + 1 for the state
  uint32_t memory_pages_before = 0, memory_pages_after = 0;  // 64 KiB wasm pages
};

struct PackResult {
  Bytes wasm;
  PackReport report;
};

bool pack(std::span<const uint8_t> runtime_wasm, std::span<const uint8_t> snapshot,
          const PackOptions& options, PackResult* out, std::string* error);

}  // namespace c2w::pack
