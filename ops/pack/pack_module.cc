#include "ops/pack/pack_module.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "ops/pack/snapshot_ram.h"

namespace c2w::pack {
namespace {

constexpr uint64_t kWasmPage = 65536;
constexpr uint64_t kMiB = uint64_t{1} << 20;

std::string hex(uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  do s.insert(s.begin(), digits[v & 15]), v >>= 4;
  while (v);
  return "0x" + s;
}

// "256 MiB", "12 KiB", "100 bytes": sizes as a user sets them.
std::string size_text(uint64_t bytes) {
  if (bytes && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

uint32_t get_u32(const Bytes& b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

void set_u32(Bytes& b, size_t at, uint64_t v) {
  for (unsigned i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// The words of the pack info.
enum : unsigned {
  kWordMagic,
  kWordVersion,
  kWordRamBase,
  kWordRamCapacity,
  kWordStateAddr,
  kWordStateCapacity,
  kWordRamSize,
  kWordStateLen,
};

// The address c2w_pack_info exports: an i32 constant global defined by the module.
bool pack_info_address(const Module& m, uint32_t* address, std::string* error) {
  const std::string not_runtime = "not a c2w runtime module: ";
  const Section* exports = m.find(kExportSection);
  std::vector<Export> list;
  if (exports && !decode_exports(*exports, &list, error)) return false;
  const Export* e = find_export(list, kPackInfoExport, kExternGlobal);
  if (!e)
    return *error = not_runtime + "it exports no global '" + kPackInfoExport +
                    "' (the runtime is linked with -Wl,--export=" + kPackInfoExport + ")",
           false;
  ImportCounts imports;
  if (const Section* s = m.find(kImportSection); s && !decode_imports(*s, &imports, error))
    return false;
  std::vector<Global> globals;
  if (const Section* s = m.find(kGlobalSection); s && !decode_globals(*s, &globals, error))
    return false;
  if (e->index < imports.globals || e->index - imports.globals >= globals.size())
    return *error = not_runtime + "'" + kPackInfoExport + "' is not a global the module defines",
           false;
  const Global& g = globals[e->index - imports.globals];
  if (g.type != 0x7f || !g.i32_const)
    return *error = not_runtime + "'" + kPackInfoExport + "' is not an i32 constant", false;
  *address = static_cast<uint32_t>(*g.i32_const);
  return true;
}

// Checks that the runtime's active data segments sit at constant addresses inside its initial
// memory and finds the pack info words in them: returns the position of word 0 in the data
// section's payload.
bool find_pack_info(const std::vector<DataSegment>& segments, uint32_t address,
                    uint64_t memory_bytes, size_t* at, std::string* error) {
  bool found = false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const DataSegment& d = segments[i];
    if (d.mode == 1) continue;  // passive: not placed by instantiation
    if (d.memory != 0 || !d.offset)
      return *error = "runtime data segment " + std::to_string(i) +
                      " is not at a constant address in memory 0 (pack needs a statically "
                      "linked runtime)",
             false;
    const uint64_t begin = *d.offset, end = begin + d.init_size;
    if (end > memory_bytes)
      return *error = "runtime data segment " + std::to_string(i) + " ends at " + hex(end) +
                      ", beyond the runtime's initial memory (" + hex(memory_bytes) + ")",
             false;
    if (!found && begin <= address && uint64_t{address} + 4 * kPackInfoWords <= end) {
      *at = d.init_start + (address - begin);
      found = true;
    }
  }
  if (!found)
    return *error = std::string("not a c2w runtime module: no active data segment holds ") +
                    kPackInfoExport + " at " + hex(address),
           false;
  return true;
}

// One of the two regions the runtime reserves.
struct Region {
  const char* name = "";  // "RAM region", "state region"
  uint64_t begin = 0, size = 0;
  uint64_t end() const { return begin + size; }
  std::string text() const {
    return std::string(name) + " [" + hex(begin) + ", " + hex(end()) + ")";
  }
};

bool overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a_size && b_size && a < b + b_size && b < a + a_size;
}

// Version, not yet packed, and the two regions placed where pack can fill them.
bool check_pack_info(const Bytes& payload, size_t at, const std::vector<DataSegment>& segments,
                     uint64_t memory_bytes, Region* ram, Region* state, std::string* error) {
  auto word = [&](unsigned w) { return get_u32(payload, at + 4 * w); };
  const std::string info = kPackInfoExport;
  if (word(kWordMagic) != kPackInfoMagic)
    return *error = "not a c2w runtime module: " + info + " has magic " + hex(word(kWordMagic)) +
                    ", not " + hex(kPackInfoMagic) + " (\"C2WP\")",
           false;
  const uint32_t version = word(kWordVersion);
  if (version == 1)
    return *error = "the runtime's " + info +
                    " is version 1: that runtime has pack raise its memory and put the machine "
                    "above it, where its C library's malloc overwrites it; this pack needs "
                    "version 2 (RAM and state in regions the runtime reserves): use the runtime "
                    "built with this c2w",
           false;
  if (version != kPackInfoVersion)
    return *error = "the runtime's " + info + " is version " + std::to_string(version) +
                    "; this pack reads version " + std::to_string(kPackInfoVersion) +
                    " (use the runtime built with this c2w)",
           false;
  if (word(kWordRamSize) != 0 || word(kWordStateLen) != 0)
    return *error = "the runtime module is already packed (its " + info +
                    " holds a machine's RAM size and state length); pack the runtime as built",
           false;
  *ram = {"RAM region", word(kWordRamBase), word(kWordRamCapacity)};
  *state = {"state region", word(kWordStateAddr), word(kWordStateCapacity)};
  if (ram->begin % kRamBaseAlign)
    return *error = "its " + ram->text() + " is not " + std::to_string(kRamBaseAlign) +
                    "-aligned (" + info + " word 2)",
           false;
  if (state->begin % kStateAddrAlign)
    return *error = "its " + state->text() + " is not " + std::to_string(kStateAddrAlign) +
                    "-aligned (" + info + " word 4)",
           false;
  for (const Region* r : {ram, state})
    if (r->end() > memory_bytes)
      return *error = "its " + r->text() + " ends beyond its initial memory (" + hex(memory_bytes) +
                      "): the region must be a .bss array of the runtime",
             false;
  if (overlap(ram->begin, ram->size, state->begin, state->size))
    return *error = "its " + ram->text() + " and " + state->text() + " overlap", false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const DataSegment& d = segments[i];
    if (d.mode == 1) continue;
    for (const Region* r : {ram, state})
      if (overlap(r->begin, r->size, *d.offset, d.init_size))
        return *error = "its " + r->text() + " overlaps its data segment " + std::to_string(i) +
                        " [" + hex(*d.offset) + ", " + hex(*d.offset + uint64_t{d.init_size}) +
                        "): the region must be a zero-initialized (.bss) array",
               false;
  }
  return true;
}

// A run of guest pages: the stored pages [first_page, first_page + pages) go in one segment.
struct Run {
  uint64_t first = 0, count = 0;
  uint64_t end() const { return first + count; }
};

std::vector<Run> page_runs(const std::vector<SnapshotPage>& pages) {
  std::vector<Run> runs;
  for (const SnapshotPage& p : pages) {
    if (!runs.empty() && runs.back().end() == p.index)
      ++runs.back().count;
    else
      runs.push_back({p.index, 1});
  }
  return runs;
}

// Merges runs across the smallest gaps (ties: lowest address) until at most `limit` remain.
std::vector<Run> merge_runs(const std::vector<Run>& runs, size_t limit) {
  if (runs.size() <= limit) return runs;
  std::vector<size_t> gaps(runs.size() - 1);  // gap i lies between runs i and i + 1
  std::iota(gaps.begin(), gaps.end(), 0);
  auto gap = [&](size_t i) { return runs[i + 1].first - runs[i].end(); };
  const size_t merges = runs.size() - limit;
  std::nth_element(gaps.begin(), gaps.begin() + merges - 1, gaps.end(),
                   [&](size_t a, size_t b) { return gap(a) != gap(b) ? gap(a) < gap(b) : a < b; });
  std::vector<bool> merge_after(runs.size(), false);
  for (size_t i = 0; i < merges; ++i) merge_after[gaps[i]] = true;
  std::vector<Run> out;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (i > 0 && merge_after[i - 1])
      out.back().count = runs[i].end() - out.back().first;
    else
      out.push_back(runs[i]);
  }
  return out;
}

// Appends one active segment per run: its stored pages, zeros where a merged gap was.
void append_ram_segments(Bytes& out, const std::vector<Run>& runs,
                         const std::vector<SnapshotPage>& pages, uint64_t ram_base) {
  size_t next = 0;
  for (const Run& r : runs) {
    const uint64_t size = r.count * kGuestPageSize;
    put_active_segment_header(out, static_cast<uint32_t>(ram_base + r.first * kGuestPageSize),
                              size);
    const size_t at = out.size();
    out.resize(at + size);  // zero-filled
    for (; next < pages.size() && pages[next].index < r.end(); ++next)
      std::memcpy(out.data() + at + (pages[next].index - r.first) * kGuestPageSize,
                  pages[next].bytes.data(), kGuestPageSize);
  }
}

// The runtime module, read and checked, with what pack changes located.
struct Runtime {
  Module module;
  Limits limits;
  Section* data = nullptr;
  Section* datacount = nullptr;  // optional
  std::vector<DataSegment> segments;
  size_t info_at = 0;  // word 0 of the pack info in data->payload
  Region ram, state;
  uint64_t memory_bytes() const { return uint64_t{limits.min} * kWasmPage; }
};

bool read_runtime(std::span<const uint8_t> wasm, Runtime* rt, std::string* error) {
  Module& m = rt->module;
  if (!parse_module(wasm, &m, error)) return false;
  ImportCounts imports;
  if (const Section* s = m.find(kImportSection); s && !decode_imports(*s, &imports, error))
    return false;
  if (imports.memories)
    return *error =
               "it imports its memory; pack needs a module that defines it (link without "
               "--import-memory)",
           false;
  const Section* memory = m.find(kMemorySection);
  if (!memory) return *error = "it has no memory", false;
  if (!decode_memory(*memory, &rt->limits, error)) return false;

  uint32_t info_address = 0;
  if (!pack_info_address(m, &info_address, error)) return false;
  rt->data = m.find(kDataSection);  // the pack info is in it, so it exists in a runtime
  if (!rt->data) return *error = "not a c2w runtime module: it has no data section", false;
  if (!decode_data(*rt->data, &rt->segments, error)) return false;
  if (!find_pack_info(rt->segments, info_address, rt->memory_bytes(), &rt->info_at, error))
    return false;
  if (!check_pack_info(rt->data->payload, rt->info_at, rt->segments, rt->memory_bytes(), &rt->ram,
                       &rt->state, error))
    return false;
  rt->datacount = m.find(kDataCountSection);
  uint32_t declared = 0;
  if (rt->datacount && !decode_datacount(*rt->datacount, &declared, error)) return false;
  if (rt->datacount && declared != rt->segments.size())
    return *error = "DataCount says " + std::to_string(declared) +
                    " segments, the data section has " + std::to_string(rt->segments.size()),
           false;
  return true;
}

// The machine in the runtime's regions: RAM and state must fit their capacities.
bool plan_layout(const Runtime& rt, const SplitSnapshot& snap, PackReport* r, std::string* error) {
  r->ram_base = rt.ram.begin;
  r->ram_capacity = rt.ram.size;
  r->state_addr = rt.state.begin;
  r->state_capacity = rt.state.size;
  r->ram_size = snap.ram_size;
  r->state_len = snap.state.size();
  r->memory_pages_before = r->memory_pages_after = rt.limits.min;
  if (r->ram_size > r->ram_capacity)
    return *error = "the machine has " + size_text(r->ram_size) +
                    " of RAM but this runtime holds at most " + size_text(r->ram_capacity) +
                    ": lower MEMORY in the recipe",
           false;
  if (r->state_len > r->state_capacity)
    return *error = "the machine's state takes " + std::to_string(r->state_len) +
                    " bytes but this runtime reserves " + std::to_string(r->state_capacity) +
                    " bytes for it (" + kPackInfoExport +
                    " word 5): build the runtime with a larger state region",
           false;
  return true;
}

}  // namespace

bool pack(std::span<const uint8_t> runtime_wasm, std::span<const uint8_t> snapshot,
          const PackOptions& options, PackResult* out, std::string* error) {
  out->report = {};
  out->wasm.clear();
  PackReport report;
  Runtime rt;
  SplitSnapshot snap;
  std::string why;
  if (!read_runtime(runtime_wasm, &rt, &why)) return *error = "runtime module: " + why, false;
  if (!split_snapshot(snapshot, &snap, &why)) return *error = "snapshot: " + why, false;
  if (!plan_layout(rt, snap, &report, error)) return false;

  // Segments: the runtime's, the RAM runs, the state.
  const std::vector<DataSegment>& segments = rt.segments;
  const uint64_t fixed = uint64_t{segments.size()} + 1;
  std::vector<Run> runs = page_runs(snap.pages);
  if (fixed + (runs.empty() ? 0 : 1) > options.max_segments)
    return *error = "the runtime has " + std::to_string(segments.size()) +
                    " data segments; with the machine's RAM and state that exceeds the limit of " +
                    std::to_string(options.max_segments),
           false;
  runs = merge_runs(runs, options.max_segments - fixed);
  report.segments_before = static_cast<uint32_t>(segments.size());
  report.segments_added = static_cast<uint32_t>(runs.size() + 1);
  report.pages_stored = snap.pages.size();
  report.page_bytes = snap.pages.size() * kGuestPageSize;
  for (const Run& r : runs) report.zero_fill_bytes += r.count * kGuestPageSize;
  report.zero_fill_bytes -= report.page_bytes;

  // The new data section: count, the runtime's segments (pack info patched), RAM, state.
  const Bytes& old = rt.data->payload;
  const uint64_t total = segments.size() + report.segments_added;
  Bytes payload;
  payload.reserve(old.size() + report.page_bytes + report.zero_fill_bytes + report.state_len +
                  16 * total);
  put_uleb(payload, total);
  const size_t body = segments.front().start;  // where the old segments begin
  const size_t info = payload.size() + (rt.info_at - body);
  payload.insert(payload.end(), old.begin() + body, old.end());
  set_u32(payload, info + 4 * kWordRamSize, report.ram_size);
  set_u32(payload, info + 4 * kWordStateLen, report.state_len);
  append_ram_segments(payload, runs, snap.pages, report.ram_base);
  put_active_segment(payload, static_cast<uint32_t>(report.state_addr), snap.state);
  rt.data->payload = std::move(payload);
  if (rt.datacount) {
    rt.datacount->payload.clear();
    put_uleb(rt.datacount->payload, total);
  }
  // The memory section stays as linked: the regions are inside the initial memory.

  out->wasm = write_module(rt.module);
  out->report = report;
  return true;
}

}  // namespace c2w::pack
