#include "ops/pack/pack_module.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "ops/pack/snapshot_ram.h"

namespace c2w::pack {
namespace {

constexpr uint64_t kWasmPage = 65536;
constexpr uint64_t kMaxWasmPages = 65536;  // 4 GiB of wasm32 memory
constexpr uint64_t k4GiB = uint64_t{1} << 32;

std::string hex(uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  do s.insert(s.begin(), digits[v & 15]), v >>= 4;
  while (v);
  return "0x" + s;
}

uint32_t get_u32(const Bytes& b, size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

void set_u32(Bytes& b, size_t at, uint64_t v) {
  for (unsigned i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

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

// Checks the runtime's existing data segments and finds the pack info words in them: returns
// the position of word 0 in the data section's payload.
bool find_pack_info(const Section& data, const std::vector<DataSegment>& segments, uint32_t address,
                    uint64_t ram_base, size_t* at, std::string* error) {
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
    if (end > ram_base)
      return *error = "runtime data segment " + std::to_string(i) + " ends at " + hex(end) +
                      ", beyond the runtime's initial memory (" + hex(ram_base) + ")",
             false;
    if (!found && begin <= address && uint64_t{address} + 4 * kPackInfoWords <= end) {
      *at = d.init_start + (address - begin);
      found = true;
    }
  }
  const std::string not_runtime = "not a c2w runtime module: ";
  if (!found)
    return *error = not_runtime + "no active data segment holds " + kPackInfoExport + " at " +
                    hex(address),
           false;
  const uint32_t magic = get_u32(data.payload, *at), version = get_u32(data.payload, *at + 4);
  if (magic != kPackInfoMagic)
    return *error = not_runtime + kPackInfoExport + " has magic " + hex(magic) + ", not " +
                    hex(kPackInfoMagic) + " (\"C2WP\")",
           false;
  if (version != kPackInfoVersion)
    return *error = std::string("the runtime's ") + kPackInfoExport + " is version " +
                    std::to_string(version) + "; this pack writes version 1 (use the runtime " +
                    "built with this c2w)",
           false;
  for (unsigned w = 2; w < 6; ++w)
    if (get_u32(data.payload, *at + 4 * w) != 0)
      return *error = "the runtime module is already packed (its " + std::string(kPackInfoExport) +
                      " holds a RAM layout); pack the runtime " + "as built",
             false;
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
  Section* memory = nullptr;
  Section* data = nullptr;
  Section* datacount = nullptr;  // optional
  std::vector<DataSegment> segments;
  size_t info_at = 0;  // word 0 of the pack info in data->payload
  uint64_t ram_base() const { return uint64_t{limits.min} * kWasmPage; }
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
  rt->memory = m.find(kMemorySection);
  if (!rt->memory) return *error = "it has no memory", false;
  if (!decode_memory(*rt->memory, &rt->limits, error)) return false;

  uint32_t info_address = 0;
  if (!pack_info_address(m, &info_address, error)) return false;
  rt->data = m.find(kDataSection);  // the pack info is in it, so it exists in a runtime
  if (!rt->data) return *error = "not a c2w runtime module: it has no data section", false;
  if (!decode_data(*rt->data, &rt->segments, error)) return false;
  if (!find_pack_info(*rt->data, rt->segments, info_address, rt->ram_base(), &rt->info_at, error))
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

// Where the machine goes: RAM at the runtime's initial memory size, the state right after.
bool plan_layout(const Runtime& rt, const SplitSnapshot& snap, PackReport* r, std::string* error) {
  r->ram_base = rt.ram_base();
  r->ram_size = snap.ram_size;
  r->state_len = snap.state.size();
  r->state_addr = (r->ram_base + snap.ram_size + 15) & ~uint64_t{15};
  r->memory_pages_before = rt.limits.min;
  const uint64_t pages = (r->state_addr + r->state_len + kWasmPage - 1) / kWasmPage;
  if (snap.ram_size >= k4GiB || pages > kMaxWasmPages)
    return *error =
               "the machine does not fit in wasm32 memory: " + std::to_string(snap.ram_size >> 20) +
               " MiB of guest RAM and " + std::to_string(r->state_len) +
               " bytes of state above the runtime's " + std::to_string(r->ram_base >> 20) +
               " MiB need " + std::to_string(pages) +
               " 64-KiB pages, more than 65536 (4 GiB); give the machine less RAM",
           false;
  r->memory_pages_after = static_cast<uint32_t>(pages);
  return true;
}

}  // namespace

bool pack(std::span<const uint8_t> runtime_wasm, std::span<const uint8_t> snapshot,
          const PackOptions& options, PackResult* out, std::string* error) {
  PackReport& report = out->report;
  report = {};
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
  set_u32(payload, info + 8, report.ram_base);
  set_u32(payload, info + 12, report.ram_size);
  set_u32(payload, info + 16, report.state_addr);
  set_u32(payload, info + 20, report.state_len);
  append_ram_segments(payload, runs, snap.pages, report.ram_base);
  put_active_segment(payload, static_cast<uint32_t>(report.state_addr), snap.state);
  rt.data->payload = std::move(payload);
  if (rt.datacount) {
    rt.datacount->payload.clear();
    put_uleb(rt.datacount->payload, total);
  }

  Limits limits = rt.limits;
  limits.min = report.memory_pages_after;
  if (limits.max && *limits.max < limits.min) limits.max = limits.min;
  rt.memory->payload = encode_memory(limits);

  out->wasm = write_module(rt.module);
  return true;
}

}  // namespace c2w::pack
