// Builders for the pack tests: a tiny runtime-like wasm module (instantiable by node) and
// synthetic machine snapshots in the format of emulators/riscv64/machine_snapshot.cc.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/pack/pack_module.h"
#include "ops/pack/snapshot_ram.h"
#include "ops/pack/wasm_module.h"

namespace packtest {

using c2w::pack::Bytes;

inline void append(Bytes& out, const Bytes& more) {
  out.insert(out.end(), more.begin(), more.end());
}

inline void put_le(Bytes& out, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

inline Bytes name(std::string_view s) {
  Bytes out;
  c2w::pack::put_uleb(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

// id, size, payload; `padded` writes the size as a 5-byte LEB (as some linkers do).
inline Bytes section(uint8_t id, const Bytes& payload, bool padded = false) {
  Bytes out{id};
  if (padded) {
    for (unsigned i = 0; i < 5; ++i)
      out.push_back(
          static_cast<uint8_t>(((payload.size() >> (7 * i)) & 0x7f) | (i < 4 ? 0x80 : 0)));
  } else {
    c2w::pack::put_uleb(out, payload.size());
  }
  append(out, payload);
  return out;
}

// A runtime as the linker would lay it out: its data at 1024 and around info_address, the RAM
// and state regions (.bss, so no data segment) above, and a little more memory after them.
struct RuntimeSpec {
  std::optional<uint32_t> min_pages;  // unset: the regions' end in 64 KiB pages, + 1
  std::optional<uint32_t> max_pages;
  uint32_t info_address = 0x1010;
  uint32_t magic = c2w::pack::kPackInfoMagic;
  uint32_t version = c2w::pack::kPackInfoVersion;
  uint32_t ram_base = 0x10000;         // word 2
  uint32_t ram_capacity = 16 << 20;    // word 3
  std::optional<uint32_t> state_addr;  // word 4; unset: right after the RAM region
  uint32_t state_capacity = 64 << 10;  // word 5
  uint32_t ram_size_word = 0;          // word 6; non-zero: looks already packed
  uint32_t state_len_word = 0;         // word 7; likewise
  bool export_info = true;
  bool import_global = false;  // an imported global ahead of the defined ones
  bool import_memory = false;
  bool data_count = false;
  bool passive_segment = false;
  bool padded_sizes = false;
  bool custom_section = true;

  uint32_t state() const { return state_addr.value_or(ram_base + ram_capacity); }
  uint32_t memory_pages() const {
    if (min_pages) return *min_pages;
    const uint64_t end =
        std::max(uint64_t{ram_base} + ram_capacity, uint64_t{state()} + state_capacity);
    return static_cast<uint32_t>((end + 65535) / 65536 + 1);
  }
};

// Exports: memory, load(i32)->i32 (i32.load), c2w_pack_info. Data: "hello" at 1024, the pack
// info at info_address inside a 48-byte segment (8 bytes of 0xee before and after).
inline Bytes build_runtime(const RuntimeSpec& spec = {}) {
  using namespace c2w::pack;
  const bool pad = spec.padded_sizes;
  Bytes m = {0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00};
  append(m, section(kTypeSection, {0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f}, pad));
  Bytes imports;
  uint32_t n_imports = 0;
  if (spec.import_global) {
    append(imports, name("env")), append(imports, name("g")), append(imports, {0x03, 0x7f, 0x00});
    ++n_imports;
  }
  if (spec.import_memory) {
    append(imports, name("env")), append(imports, name("mem")), append(imports, {0x02, 0x00, 0x01});
    ++n_imports;
  }
  if (n_imports) {
    Bytes p;
    put_uleb(p, n_imports);
    append(p, imports);
    append(m, section(kImportSection, p, pad));
  }
  append(m, section(kFunctionSection, {0x01, 0x00}, pad));
  if (!spec.import_memory) {
    Limits l{0, spec.memory_pages(), spec.max_pages};
    append(m, section(kMemorySection, encode_memory(l), pad));
  }
  // Globals: a mutable stack pointer, then the pack info address.
  Bytes globals = {0x02, 0x7f, 0x01, 0x41};
  put_sleb(globals, 0x8000);
  append(globals, {0x0b, 0x7f, 0x00, 0x41});
  put_sleb(globals, static_cast<int32_t>(spec.info_address));
  globals.push_back(0x0b);
  append(m, section(kGlobalSection, globals, pad));
  Bytes exports;
  uint32_t n_exports = 1;
  append(exports, name("load")), append(exports, {kExternFunc, 0x00});
  if (!spec.import_memory)
    append(exports, name("memory")), append(exports, {kExternMemory, 0}), ++n_exports;
  if (spec.export_info) {
    append(exports, name(kPackInfoExport));
    exports.push_back(kExternGlobal);
    put_uleb(exports, spec.import_global ? 2 : 1);
    ++n_exports;
  }
  Bytes ep;
  put_uleb(ep, n_exports);
  append(ep, exports);
  append(m, section(kExportSection, ep, pad));
  const uint32_t n_segments = spec.passive_segment ? 3 : 2;
  if (spec.data_count)
    append(m, section(kDataCountSection, {static_cast<uint8_t>(n_segments)}, pad));
  // One body: no locals; local.get 0; i32.load align=2 offset=0; end.
  append(m, section(kCodeSection, {0x01, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b}, pad));
  Bytes data;
  put_uleb(data, n_segments);
  put_active_segment(data, 1024, Bytes{'h', 'e', 'l', 'l', 'o'});
  Bytes info(8, 0xee);
  for (uint32_t w : {spec.magic, spec.version, spec.ram_base, spec.ram_capacity, spec.state(),
                     spec.state_capacity, spec.ram_size_word, spec.state_len_word})
    put_le(info, w, 4);
  info.insert(info.end(), 8, 0xee);
  put_active_segment(data, spec.info_address - 8, info);
  if (spec.passive_segment) append(data, {0x01, 0x03, 'a', 'b', 'c'});
  append(m, section(kDataSection, data, pad));
  if (spec.custom_section) {
    Bytes custom = name("c2w.test");
    append(custom, {1, 2, 3, 4});
    append(m, section(kCustomSection, custom, pad));
  }
  return m;
}

// A page's content in the synthetic snapshots: never all zero.
inline uint8_t page_byte(uint32_t index, uint32_t offset, uint8_t seed) {
  return static_cast<uint8_t>(index * 7 + offset * 13 + seed + 1) | 1;
}

// A snapshot with `ram_size` bytes of RAM and the given pages stored (indexes as given, so
// tests can also write out-of-order or out-of-range ones).
inline Bytes build_snapshot(uint64_t ram_size, const std::vector<uint32_t>& pages,
                            uint8_t seed = 0) {
  Bytes s = {'c', '2', 'w', 's', 'n', 'a', 'p', '\0'};
  put_le(s, 1, 4);
  put_le(s, 0x34365652, 4);
  auto sec = [&](const char* tag, const Bytes& payload) {
    s.insert(s.end(), tag, tag + 4);
    put_le(s, payload.size(), 8);
    append(s, payload);
  };
  Bytes conf;
  put_le(conf, ram_size, 8);
  append(conf, {4, 0, 0, 0, 'c', 'o', 'n', 's'});
  sec("CONF", conf);
  Bytes time;
  put_le(time, 123456789, 8);
  sec("TIME", time);
  Bytes cpu(300);
  for (size_t i = 0; i < cpu.size(); ++i) cpu[i] = static_cast<uint8_t>(i * 31 + seed);
  sec("CPU ", cpu);
  sec("MACH", {1, 2, 3});
  sec("VIRT", {0, 0, 0, 0});
  Bytes ram;
  put_le(ram, 4096, 4);
  put_le(ram, ram_size / 4096, 8);
  put_le(ram, pages.size(), 8);
  for (uint32_t p : pages) {
    put_le(ram, p, 4);
    for (uint32_t o = 0; o < 4096; ++o) ram.push_back(page_byte(p, o, seed));
  }
  sec("RAM ", ram);
  sec("END ", {});
  return s;
}

// Linear memory after instantiation: the initial memory with every active segment applied.
struct Image {
  c2w::pack::Limits limits;
  std::vector<c2w::pack::DataSegment> segments;
  Bytes data_payload;
  Bytes memory;
};

inline bool instantiate(const Bytes& wasm, Image* out, std::string* error, bool fill = true) {
  using namespace c2w::pack;
  Module m;
  if (!parse_module(wasm, &m, error)) return false;
  if (!decode_memory(*m.find(kMemorySection), &out->limits, error)) return false;
  const Section* data = m.find(kDataSection);
  if (!decode_data(*data, &out->segments, error)) return false;
  out->data_payload = data->payload;
  if (!fill) return true;
  out->memory.assign(uint64_t{out->limits.min} * 65536, 0);
  for (const DataSegment& d : out->segments) {
    if (d.mode == 1) continue;
    if (!d.offset || *d.offset + uint64_t{d.init_size} > out->memory.size())
      return *error = "segment out of bounds", false;
    std::copy_n(data->payload.begin() + d.init_start, d.init_size, out->memory.begin() + *d.offset);
  }
  return true;
}

}  // namespace packtest
