// Takes a machine snapshot apart for pack: its stored RAM pages, and the rest of the state with
// the pages left out. The format is the one emulators/riscv64/machine_snapshot.cc writes
// (version 1): "c2wsnap\0", u32 version, u32 arch, then sections (4-byte tag, u64 LE length,
// payload) with "CONF" first (its first u64 is the RAM size) and "RAM " last before "END ".
//
// Promises: the whole snapshot is validated before anything is returned (every section inside
// the data, the RAM header consistent with CONF, page size 4096, page indexes in range and
// strictly increasing, nothing after "END "); hostile input gets an error, never a crash.
// `state` is the snapshot byte for byte except the RAM section, which keeps its header (page
// size, pages in RAM) with 0 pages stored: what Machine::restore reads when RAM is preloaded.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "emulators/common/guest_ram.h"

namespace c2w::pack {

inline constexpr uint32_t kGuestPageSize = emulators::kGuestPageSize;

struct SnapshotPage {
  uint32_t index = 0;              // guest RAM page number
  std::span<const uint8_t> bytes;  // 4096 bytes inside the snapshot given to split_snapshot
};

struct SplitSnapshot {
  uint64_t ram_size = 0;            // bytes (pages in RAM * 4096)
  std::vector<SnapshotPage> pages;  // the stored pages, by increasing index
  std::vector<uint8_t> state;       // the snapshot with 0 pages stored
};

bool split_snapshot(std::span<const uint8_t> snapshot, SplitSnapshot* out, std::string* error);

}  // namespace c2w::pack
