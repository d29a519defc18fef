// pack(): runtime module + snapshot -> a module whose data segments put the RAM pages in the
// runtime's RAM region (at ram_base) and the state in its state region (at state_addr), with
// the memory limits as linked. Outputs are checked by decoding them (and, in the node tests, by
// instantiating them in V8 and reading memory through the module's own code).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "tests/support/process.h"
#include "tests/unit/pack_support.h"

namespace {

using namespace c2w::pack;
using namespace packtest;

constexpr uint64_t kMiB = 1 << 20;

struct Packed {
  PackResult result;
  Image image;
};

// Packs and instantiates (in memory); fails the test on any error.
Packed pack_ok(const Bytes& runtime, const Bytes& snapshot, PackOptions options = {},
               bool fill = true) {
  Packed p;
  std::string err;
  EXPECT_TRUE(pack(runtime, snapshot, options, &p.result, &err)) << err;
  if (!p.result.wasm.empty()) {
    EXPECT_TRUE(instantiate(p.result.wasm, &p.image, &err, fill)) << err;
  }
  return p;
}

std::string pack_error(const Bytes& runtime, const Bytes& snapshot, PackOptions options = {}) {
  PackResult r;
  std::string err;
  return pack(runtime, snapshot, options, &r, &err) ? "" : err;
}

uint32_t word(const Bytes& b, uint64_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

// Guest RAM in the image holds exactly the stored pages (zeros elsewhere), and the state is
// the snapshot without pages.
void expect_machine_in_memory(const Packed& p, uint64_t ram_size,
                              const std::vector<uint32_t>& pages, uint8_t seed = 0) {
  const PackReport& r = p.result.report;
  const Bytes& mem = p.image.memory;
  ASSERT_GE(mem.size(), r.state_addr + r.state_len);
  const std::set<uint32_t> stored(pages.begin(), pages.end());
  for (uint32_t page = 0; page < ram_size / 4096; ++page) {
    const uint64_t at = r.ram_base + uint64_t{page} * 4096;
    for (uint32_t o = 0; o < 4096; o += 509) {
      const uint8_t want = stored.count(page) ? page_byte(page, o, seed) : 0;
      ASSERT_EQ(mem[at + o], want) << "page " << page << " offset " << o;
    }
  }
  const Bytes want_state = build_snapshot(ram_size, {}, seed);
  ASSERT_EQ(r.state_len, want_state.size());
  EXPECT_TRUE(std::equal(want_state.begin(), want_state.end(), mem.begin() + r.state_addr));
}

std::vector<uint32_t> info_words(const Bytes& mem, uint32_t address) {
  std::vector<uint32_t> w;
  for (unsigned i = 0; i < kPackInfoWords; ++i) w.push_back(word(mem, address + 4 * i));
  return w;
}

TEST(Pack, PlacesPagesAndStateInTheRuntimesRegions) {
  const RuntimeSpec spec;  // RAM region 0x10000 + 16 MiB, state region right after it
  const std::vector<uint32_t> pages = {0, 1, 2, 10, 200, 255};
  const Packed p = pack_ok(build_runtime(spec), build_snapshot(kMiB, pages));
  const PackReport& r = p.result.report;
  const uint64_t state_len = build_snapshot(kMiB, {}).size();
  EXPECT_EQ(r.ram_base, 0x10000u);
  EXPECT_EQ(r.ram_capacity, 16 * kMiB);
  EXPECT_EQ(r.state_addr, 0x1010000u);
  EXPECT_EQ(r.state_capacity, 0x10000u);
  EXPECT_EQ(r.ram_size, kMiB);
  EXPECT_EQ(r.state_len, state_len);
  EXPECT_EQ(r.pages_stored, 6u);
  EXPECT_EQ(r.page_bytes, 6 * 4096u);
  EXPECT_EQ(r.zero_fill_bytes, 0u);
  EXPECT_EQ(r.segments_before, 2u);
  EXPECT_EQ(r.segments_added, 5u);  // pages 0-2, 10, 200, 255, state
  EXPECT_EQ(r.memory_pages_before, spec.memory_pages());
  EXPECT_EQ(r.memory_pages_after, spec.memory_pages());

  const auto& segs = p.image.segments;
  ASSERT_EQ(segs.size(), 7u);
  const std::vector<std::pair<uint64_t, uint64_t>> want = {{0x10000, 3 * 4096},
                                                           {0x10000 + 10 * 4096, 4096},
                                                           {0x10000 + 200 * 4096, 4096},
                                                           {0x10000 + 255 * 4096, 4096},
                                                           {0x1010000, state_len}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(segs[2 + i].offset, want[i].first) << i;
    EXPECT_EQ(segs[2 + i].init_size, want[i].second) << i;
  }
  expect_machine_in_memory(p, kMiB, pages);

  // Words 0..5 as the runtime set them, 6 and 7 written by pack.
  const Bytes& mem = p.image.memory;
  const std::vector<uint32_t> info = {
      kPackInfoMagic, 2,       0x10000,           16 << 20,
      0x1010000,      0x10000, uint32_t{1} << 20, static_cast<uint32_t>(state_len)};
  EXPECT_EQ(info_words(mem, spec.info_address), info);
  EXPECT_EQ(word(mem, spec.info_address - 4), 0xeeeeeeeeu) << "bytes around the info untouched";
  EXPECT_EQ(word(mem, spec.info_address + 32), 0xeeeeeeeeu);
  EXPECT_EQ(std::string(mem.begin() + 1024, mem.begin() + 1029), "hello");

  // The state is a snapshot with 0 pages stored, same RAM size.
  SplitSnapshot state;
  std::string err;
  ASSERT_TRUE(split_snapshot({mem.data() + r.state_addr, r.state_len}, &state, &err)) << err;
  EXPECT_EQ(state.ram_size, kMiB);
  EXPECT_TRUE(state.pages.empty());
}

TEST(Pack, WritesRamSizeAndStateLengthIntoTheInfo) {
  RuntimeSpec spec;
  spec.info_address = 0x2000;
  spec.state_addr = 0x3000;  // below the RAM region this time
  spec.state_capacity = 0x1000;
  spec.ram_base = 0x40000;
  spec.ram_capacity = 3 * kMiB;
  const Bytes runtime = build_runtime(spec);
  for (const uint64_t ram : {kMiB, 2 * kMiB + 4096, 3 * kMiB}) {
    const Packed p = pack_ok(runtime, build_snapshot(ram, {1}));
    const std::vector<uint32_t> words = info_words(p.image.memory, spec.info_address);
    ASSERT_EQ(words.size(), 8u);
    EXPECT_EQ(words[2], 0x40000u);
    EXPECT_EQ(words[3], 3 * kMiB);
    EXPECT_EQ(words[4], 0x3000u);
    EXPECT_EQ(words[5], 0x1000u);
    EXPECT_EQ(words[6], ram);
    EXPECT_EQ(words[7], build_snapshot(ram, {}).size());
    EXPECT_EQ(p.image.segments.back().offset, 0x3000u);
    expect_machine_in_memory(p, ram, {1});
  }
}

TEST(Pack, CopiesOtherSectionsUnchanged) {
  RuntimeSpec spec;
  spec.padded_sizes = true;
  const Bytes runtime = build_runtime(spec);
  const Packed p = pack_ok(runtime, build_snapshot(kMiB, {3}));
  Module in, out;
  std::string err;
  ASSERT_TRUE(parse_module(runtime, &in, &err) && parse_module(p.result.wasm, &out, &err)) << err;
  ASSERT_EQ(in.sections.size(), out.sections.size());
  for (size_t i = 0; i < in.sections.size(); ++i) {
    const Section &a = in.sections[i], &b = out.sections[i];
    EXPECT_EQ(a.id, b.id);
    if (a.id == kDataSection) continue;
    EXPECT_EQ(a.payload, b.payload) << "section " << int{a.id};
    EXPECT_EQ(a.size_field, b.size_field) << "section " << int{a.id};
  }
  // The runtime's own segments come first, byte for byte apart from the info words.
  std::vector<DataSegment> old_segs;
  ASSERT_TRUE(decode_data(*in.find(kDataSection), &old_segs, &err)) << err;
  const Bytes& old_payload = in.find(kDataSection)->payload;
  const Bytes& new_payload = out.find(kDataSection)->payload;
  const DataSegment& hello = old_segs[0];
  EXPECT_TRUE(std::equal(old_payload.begin() + hello.start,
                         old_payload.begin() + hello.start + hello.size,
                         new_payload.begin() + p.image.segments[0].start));
}

TEST(Pack, IsDeterministic) {
  const Bytes runtime = build_runtime();
  const Bytes snap = build_snapshot(4 * kMiB, {1, 2, 3, 100, 700, 1000}, 5);
  PackOptions few;
  few.max_segments = 5;
  EXPECT_EQ(pack_ok(runtime, snap).result.wasm, pack_ok(runtime, snap).result.wasm);
  EXPECT_EQ(pack_ok(runtime, snap, few).result.wasm, pack_ok(runtime, snap, few).result.wasm);
  EXPECT_NE(pack_ok(runtime, snap).result.wasm,
            pack_ok(runtime, build_snapshot(4 * kMiB, {1, 2, 3, 100, 700, 1000}, 6)).result.wasm);
}

std::vector<std::pair<uint64_t, uint64_t>> ram_segments(const Packed& p) {
  std::vector<std::pair<uint64_t, uint64_t>> out;  // (first page, pages)
  const PackReport& r = p.result.report;
  for (size_t i = r.segments_before; i + 1 < p.image.segments.size(); ++i) {
    const DataSegment& d = p.image.segments[i];
    out.emplace_back((*d.offset - r.ram_base) / 4096, d.init_size / 4096);
  }
  return out;
}

TEST(Pack, MergesAcrossTheSmallestGapsToStayUnderTheSegmentLimit) {
  const Bytes runtime = build_runtime();  // 2 segments of its own; the state takes 1
  const std::vector<uint32_t> pages = {0, 1, 2, 10, 200, 255};  // gaps of 7, 189 and 54 pages
  const Bytes snap = build_snapshot(kMiB, pages);
  using Segs = std::vector<std::pair<uint64_t, uint64_t>>;
  PackOptions o;
  o.max_segments = 7;
  EXPECT_EQ(ram_segments(pack_ok(runtime, snap, o)), Segs({{0, 3}, {10, 1}, {200, 1}, {255, 1}}));
  o.max_segments = 6;
  EXPECT_EQ(ram_segments(pack_ok(runtime, snap, o)), Segs({{0, 11}, {200, 1}, {255, 1}}));
  o.max_segments = 5;
  const Packed two = pack_ok(runtime, snap, o);
  EXPECT_EQ(ram_segments(two), Segs({{0, 11}, {200, 56}}));
  EXPECT_EQ(two.result.report.zero_fill_bytes, (7 + 54) * 4096u);
  EXPECT_EQ(two.result.report.segments_added, 3u);
  expect_machine_in_memory(two, kMiB, pages);
  o.max_segments = 4;
  const Packed one = pack_ok(runtime, snap, o);
  EXPECT_EQ(ram_segments(one), Segs({{0, 256}}));
  EXPECT_EQ(one.result.report.zero_fill_bytes, (256 - 6) * 4096u);
  expect_machine_in_memory(one, kMiB, pages);

  o.max_segments = 3;  // no room for RAM
  EXPECT_NE(pack_error(runtime, snap, o).find("exceeds the limit of 3"), std::string::npos);
  EXPECT_EQ(pack_ok(runtime, build_snapshot(kMiB, {}), o).result.report.segments_added, 1u);
}

TEST(Pack, EqualGapsMergeLowestAddressFirst) {
  const std::vector<uint32_t> pages = {0, 2, 4, 6};
  PackOptions o;
  o.max_segments = 3 + 3;
  using Segs = std::vector<std::pair<uint64_t, uint64_t>>;
  EXPECT_EQ(ram_segments(pack_ok(build_runtime(), build_snapshot(kMiB, pages), o)),
            Segs({{0, 3}, {4, 1}, {6, 1}}));
}

TEST(Pack, ManyRunsUnderASmallLimit) {
  std::vector<uint32_t> pages;
  for (uint32_t i = 0; i < 2000; ++i) pages.push_back(2 * i + (i >= 1500 ? 1 : 0));
  // Gaps are 1 page except a 2-page gap between pages 2998 and 3001.
  const Bytes snap = build_snapshot(16 * kMiB, pages, 3);
  PackOptions o;
  o.max_segments = 3 + 100;
  const Packed p = pack_ok(build_runtime(), snap, o);
  const auto segs = ram_segments(p);
  ASSERT_EQ(segs.size(), 100u);
  // 1900 of the 1998 one-page gaps merge, lowest first; the 2-page gap (after run 1499) is the
  // largest and is kept: runs 0..1499, runs 1500..1901, then runs 1902..1999 alone.
  using Seg = std::pair<uint64_t, uint64_t>;
  EXPECT_EQ(segs[0], Seg(0, 2999));
  EXPECT_EQ(segs[1], Seg(3001, 3803 - 3001 + 1));
  EXPECT_EQ(segs[2], Seg(3805, 1));
  EXPECT_EQ(segs[99], Seg(3999, 1));
  EXPECT_EQ(p.result.report.zero_fill_bytes, 1900 * 4096u);
  expect_machine_in_memory(p, 16 * kMiB, pages, 3);
}

TEST(Pack, LeavesTheMemoryAsLinked) {
  for (const std::optional<uint32_t> max :
       {std::optional<uint32_t>(), std::optional<uint32_t>(300), std::optional<uint32_t>(65536)}) {
    RuntimeSpec spec;
    spec.max_pages = max;
    spec.min_pages = 290;  // more than the regions need: the heap's room
    const Bytes runtime = build_runtime(spec);
    const Packed p = pack_ok(runtime, build_snapshot(16 * kMiB, {0, 4095}));
    EXPECT_EQ(p.image.limits.min, 290u);
    EXPECT_EQ(p.image.limits.max, max);
    EXPECT_EQ(p.result.report.memory_pages_before, 290u);
    EXPECT_EQ(p.result.report.memory_pages_after, 290u);
    Module in, out;
    std::string err;
    ASSERT_TRUE(parse_module(runtime, &in, &err) && parse_module(p.result.wasm, &out, &err)) << err;
    EXPECT_EQ(in.find(kMemorySection)->payload, out.find(kMemorySection)->payload);
    // Every segment pack added lies inside the regions.
    const PackReport& r = p.result.report;
    for (size_t i = r.segments_before; i < p.image.segments.size(); ++i) {
      const DataSegment& d = p.image.segments[i];
      const uint64_t begin = *d.offset, end = begin + d.init_size;
      const bool in_ram = begin >= r.ram_base && end <= r.ram_base + r.ram_capacity;
      const bool in_state = begin >= r.state_addr && end <= r.state_addr + r.state_capacity;
      EXPECT_TRUE(in_ram || in_state) << "segment " << i << " at " << begin;
    }
  }
}

TEST(Pack, UpdatesDataCountAndKeepsPassiveSegments) {
  RuntimeSpec spec;
  spec.data_count = true;
  spec.passive_segment = true;
  const Packed p = pack_ok(build_runtime(spec), build_snapshot(kMiB, {5, 6, 9}));
  Module m;
  std::string err;
  ASSERT_TRUE(parse_module(p.result.wasm, &m, &err)) << err;
  uint32_t count = 0;
  ASSERT_TRUE(decode_datacount(*m.find(kDataCountSection), &count, &err)) << err;
  EXPECT_EQ(count, 3u + 3u);
  ASSERT_EQ(p.image.segments.size(), 6u);
  EXPECT_EQ(p.image.segments[2].mode, 1u);
  EXPECT_EQ(p.result.report.segments_before, 3u);
}

TEST(Pack, FindsTheInfoGlobalPastImportedGlobals) {
  RuntimeSpec spec;
  spec.import_global = true;
  const Packed p = pack_ok(build_runtime(spec), build_snapshot(kMiB, {1}));
  EXPECT_EQ(word(p.image.memory, spec.info_address + 24), kMiB);
}

TEST(Pack, RefusesModulesThatAreNotRuntimes) {
  const Bytes snap = build_snapshot(kMiB, {1});
  RuntimeSpec spec;
  spec.export_info = false;
  EXPECT_NE(
      pack_error(build_runtime(spec), snap).find("not a c2w runtime module: it exports no global"),
      std::string::npos);
  spec = {};
  spec.magic = 0x12345678;
  EXPECT_NE(pack_error(build_runtime(spec), snap).find("has magic 0x12345678"), std::string::npos);
  spec = {};
  spec.import_memory = true;
  EXPECT_NE(pack_error(build_runtime(spec), snap).find("imports its memory"), std::string::npos);
  spec = {};
  spec.min_pages = 1;
  spec.ram_base = 0x8000;
  spec.ram_capacity = 0x4000;
  spec.state_capacity = 0x100;
  spec.info_address = 0x10000 - 16;  // the info's segment runs past the initial memory
  EXPECT_NE(pack_error(build_runtime(spec), snap).find("beyond the runtime's initial memory"),
            std::string::npos);
  EXPECT_NE(pack_error({0, 'a', 's', 'm', 1, 0, 0}, snap).find("runtime module: malformed"),
            std::string::npos);
}

TEST(Pack, RefusesOtherPackInfoVersions) {
  const Bytes snap = build_snapshot(kMiB, {1});
  RuntimeSpec spec;
  spec.version = 1;  // the layout that put RAM above the runtime's memory
  const std::string v1 = pack_error(build_runtime(spec), snap);
  EXPECT_EQ(v1.find("runtime module: the runtime's c2w_pack_info is version 1"), 0u) << v1;
  EXPECT_NE(v1.find("this pack needs version 2"), std::string::npos) << v1;
  EXPECT_NE(v1.find("malloc"), std::string::npos) << v1;
  for (uint32_t version : {0u, 3u, 0x02000000u}) {
    spec.version = version;
    EXPECT_NE(pack_error(build_runtime(spec), snap)
                  .find("is version " + std::to_string(version) + "; this pack reads version 2"),
              std::string::npos)
        << version;
  }
}

TEST(Pack, RefusesAPackedRuntime) {
  const Bytes snap = build_snapshot(kMiB, {1});
  const Packed once = pack_ok(build_runtime(), snap);
  EXPECT_NE(pack_error(once.result.wasm, snap).find("already packed"), std::string::npos);
  RuntimeSpec spec;
  spec.ram_size_word = 4096;  // word 6 alone
  EXPECT_NE(pack_error(build_runtime(spec), snap).find("already packed"), std::string::npos);
  spec = {};
  spec.state_len_word = 1;  // word 7 alone
  EXPECT_NE(pack_error(build_runtime(spec), snap).find("already packed"), std::string::npos);
}

TEST(Pack, RefusesRamBeyondTheRegionsCapacity) {
  RuntimeSpec spec;
  spec.ram_capacity = 256 * kMiB;
  spec.min_pages = 4096 + 2;  // 256 MiB + the state region + data below
  spec.state_addr = 0x1000;
  spec.state_capacity = 0xf000 - 0x1000;
  spec.info_address = 1024 + 16;
  const Bytes runtime = build_runtime(spec);
  EXPECT_EQ(pack_error(runtime, build_snapshot(512 * kMiB, {0})),
            "the machine has 512 MiB of RAM but this runtime holds at most 256 MiB: lower MEMORY "
            "in the recipe");
  EXPECT_NE(pack_error(runtime, build_snapshot(256 * kMiB + 4096, {}))
                .find("the machine has 262148 KiB of RAM but this runtime holds at most 256 MiB"),
            std::string::npos);
  // Exactly the capacity fits; the last page goes at the region's last 4 KiB.
  const Packed full = pack_ok(runtime, build_snapshot(256 * kMiB, {65535}), {}, false);
  EXPECT_EQ(full.image.segments[2].offset, 0x10000u + 256 * kMiB - 4096);
  // Sizes beyond wasm32 are a capacity error too, not an overflow.
  for (const uint64_t ram : {uint64_t{1} << 32, uint64_t{1} << 40, (uint64_t{1} << 32) + kMiB})
    EXPECT_NE(pack_error(runtime, build_snapshot(ram, {})).find("lower MEMORY in the recipe"),
              std::string::npos)
        << ram;
}

TEST(Pack, RefusesAStateBeyondTheRegionsCapacity) {
  const uint64_t state_len = build_snapshot(kMiB, {}).size();
  RuntimeSpec spec;
  spec.state_capacity = static_cast<uint32_t>(state_len) - 1;
  EXPECT_EQ(pack_error(build_runtime(spec), build_snapshot(kMiB, {3})),
            "the machine's state takes " + std::to_string(state_len) +
                " bytes but this runtime reserves " + std::to_string(state_len - 1) +
                " bytes for it (c2w_pack_info word 5): build the runtime with a larger state "
                "region");
  spec.state_capacity = static_cast<uint32_t>(state_len);
  const Packed p = pack_ok(build_runtime(spec), build_snapshot(kMiB, {3}));
  EXPECT_EQ(p.result.report.state_capacity, state_len);
  expect_machine_in_memory(p, kMiB, {3});
}

TEST(Pack, RefusesRegionsOutsideTheInitialMemory) {
  const Bytes snap = build_snapshot(kMiB, {1});
  RuntimeSpec spec;
  spec.ram_capacity = kMiB;
  spec.state_capacity = 0x10000;
  spec.min_pages = 0x120000 / 0x10000;  // the state region ends exactly at the memory's end
  EXPECT_EQ(pack_error(build_runtime(spec), snap), "");
  spec.min_pages = *spec.min_pages - 1;
  EXPECT_EQ(pack_error(build_runtime(spec), snap),
            "runtime module: its state region [0x110000, 0x120000) ends beyond its initial "
            "memory (0x110000): the region must be a .bss array of the runtime");
  spec.state_addr = 0x2000;  // the RAM region is then the one outside
  spec.state_capacity = 0x1000;
  spec.min_pages = 16;
  EXPECT_NE(pack_error(build_runtime(spec), snap)
                .find("its RAM region [0x10000, 0x110000) ends beyond its initial memory"),
            std::string::npos);
  spec = {};
  spec.ram_base = 0xfffff000;  // the end wraps around 32 bits
  spec.ram_capacity = 0x2000;
  spec.state_addr = 0x2000;
  spec.state_capacity = 0x1000;
  spec.min_pages = 65536;
  EXPECT_NE(pack_error(build_runtime(spec), snap)
                .find("RAM region [0xfffff000, 0x100001000) ends beyond its initial memory"),
            std::string::npos);
}

TEST(Pack, RefusesOverlappingRegions) {
  const Bytes snap = build_snapshot(kMiB, {1});
  RuntimeSpec spec;
  spec.ram_capacity = kMiB;
  spec.state_addr = 0x10000 + kMiB - 16;  // the RAM region's last 16 bytes
  EXPECT_EQ(pack_error(build_runtime(spec), snap),
            "runtime module: its RAM region [0x10000, 0x110000) and state region [0x10fff0, "
            "0x11fff0) overlap");
  spec.state_addr = 0;  // the state region starts below and ends inside it
  spec.state_capacity = 0x10010;
  EXPECT_NE(pack_error(build_runtime(spec), snap)
                .find("its RAM region [0x10000, 0x110000) and state region [0x0, 0x10010) overlap"),
            std::string::npos);
  spec = {};
  spec.ram_capacity = kMiB;
  spec.state_addr = 0x10000 + kMiB;  // touching is fine
  EXPECT_EQ(pack_error(build_runtime(spec), snap), "");
}

TEST(Pack, RefusesRegionsOverlappingTheRuntimesData) {
  const Bytes snap = build_snapshot(kMiB, {1});
  RuntimeSpec spec;
  spec.ram_base = 0;  // covers "hello" at 1024 and the info segment
  spec.ram_capacity = 2 * kMiB;
  EXPECT_EQ(pack_error(build_runtime(spec), snap),
            "runtime module: its RAM region [0x0, 0x200000) overlaps its data segment 0 [0x400, "
            "0x405): the region must be a zero-initialized (.bss) array");
  spec = {};
  spec.state_addr = 0x1030;  // the last 8 bytes of the info segment [0x1008, 0x1038)
  spec.state_capacity = 0x1000;
  EXPECT_NE(pack_error(build_runtime(spec), snap)
                .find("its state region [0x1030, 0x2030) overlaps its data segment 1 [0x1008, "
                      "0x1038)"),
            std::string::npos);
  spec.state_addr = 0x200;  // ending where "hello" [0x400, 0x405) begins is fine
  spec.state_capacity = 0x200;
  EXPECT_EQ(pack_error(build_runtime(spec), snap), "");
  spec.state_capacity = 0x201;  // one byte more is not
  EXPECT_NE(
      pack_error(build_runtime(spec), snap).find("overlaps its data segment 0 [0x400, 0x405)"),
      std::string::npos);
  spec = {};
  spec.passive_segment = true;  // passive segments are not placed: they overlap nothing
  spec.data_count = true;
  EXPECT_EQ(pack_error(build_runtime(spec), snap), "");
}

TEST(Pack, RefusesMisalignedRegions) {
  const Bytes snap = build_snapshot(kMiB, {1});
  RuntimeSpec spec;
  spec.ram_base = 0x10800;
  EXPECT_NE(
      pack_error(build_runtime(spec), snap)
          .find("its RAM region [0x10800, 0x1010800) is not 4096-aligned (c2w_pack_info word 2)"),
      std::string::npos);
  spec = {};
  spec.state_addr = 0x1010008;
  EXPECT_NE(pack_error(build_runtime(spec), snap).find("is not 16-aligned (c2w_pack_info word 4)"),
            std::string::npos);
}

TEST(Pack, ReportIsZeroWhenPackFails) {
  PackResult r;
  r.report.ram_size = 1;
  r.wasm = {1, 2, 3};
  std::string err;
  RuntimeSpec spec;
  spec.ram_capacity = kMiB;
  EXPECT_FALSE(pack(build_runtime(spec), build_snapshot(2 * kMiB, {}), {}, &r, &err));
  EXPECT_EQ(r.report.ram_size, 0u);
  EXPECT_EQ(r.report.ram_base, 0u);
  EXPECT_EQ(r.report.memory_pages_before, 0u);
  EXPECT_TRUE(r.wasm.empty());
}

// Pack info words 2..5 from a hostile runtime: pack either refuses or places every segment
// inside the initial memory, in the declared regions, clear of the runtime's own data.
TEST(Pack, HostileRegionsNeverCrashOrEscape) {
  std::mt19937 rng(2024);
  const Bytes snap = build_snapshot(64 << 10, {0, 3, 15});
  const std::vector<uint32_t> interesting = {
      0,       16,         0x1000,     0x1008,     0x1030,     0x10000,   0x10010,
      0x20000, 0x7ffff000, 0x80000000, 0xfffff000, 0xfffffff0, 0xffffffff};
  // Mostly 4 KiB multiples inside the 256 KiB memory, nudged by a byte or 16 now and then.
  auto pick = [&] {
    const uint32_t nudge[] = {0, 0, 0, 1, 16, 0xffffffff, 0xfffffff0};
    switch (rng() % 4) {
      case 0:
        return interesting[rng() % interesting.size()];
      case 3:
        return static_cast<uint32_t>(rng());
      default:
        return static_cast<uint32_t>(rng() % 0x41 * 0x1000 + nudge[rng() % 7]);
    }
  };
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    RuntimeSpec spec;
    spec.min_pages = 4;
    spec.ram_base = pick();
    spec.ram_capacity = pick();
    spec.state_addr = pick();
    spec.state_capacity = pick();
    PackResult r;
    std::string err;
    if (!pack(build_runtime(spec), snap, {}, &r, &err)) {
      ASSERT_FALSE(err.empty());
      continue;
    }
    ++accepted;
    Image image;
    ASSERT_TRUE(instantiate(r.wasm, &image, &err, false)) << err;
    ASSERT_EQ(image.limits.min, 4u);
    for (size_t i = 2; i < image.segments.size(); ++i) {
      const uint64_t begin = *image.segments[i].offset, end = begin + image.segments[i].init_size;
      ASSERT_LE(end, 4u * 65536);
      const bool in_ram =
          begin >= spec.ram_base && end <= uint64_t{spec.ram_base} + spec.ram_capacity;
      const bool in_state =
          begin >= spec.state() && end <= uint64_t{spec.state()} + spec.state_capacity;
      ASSERT_TRUE(in_ram || in_state) << round;
      ASSERT_TRUE(end <= 1024 || begin >= 1029) << "hello";
      ASSERT_TRUE(end <= 0x1008 || begin >= 0x1038) << "pack info";
    }
  }
  EXPECT_GE(accepted, 10) << "the success path is exercised too";
}

TEST(Pack, PlacesRegionsAbove2GiBWithSignedOffsets) {
  RuntimeSpec spec;
  spec.ram_base = 0x80000000;
  spec.ram_capacity = kMiB;
  const Packed p = pack_ok(build_runtime(spec), build_snapshot(kMiB, {0, 5}), {}, false);
  ASSERT_EQ(p.image.segments.size(), 5u);
  EXPECT_EQ(p.image.segments[2].offset, 0x80000000u);
  EXPECT_EQ(p.image.segments[3].offset, 0x80005000u);
  EXPECT_EQ(p.image.segments[4].offset, 0x80100000u);
}

TEST(Pack, RegionsEndingAt4GiB) {
  RuntimeSpec spec;
  spec.min_pages = 65536;
  spec.ram_base = 0xfff00000;
  spec.ram_capacity = kMiB - 0x1000;
  spec.state_addr = 0xfffff000;
  spec.state_capacity = 0x1000;
  const Packed p = pack_ok(build_runtime(spec), build_snapshot(kMiB - 0x1000, {0, 254}), {}, false);
  ASSERT_EQ(p.image.segments.size(), 5u);
  EXPECT_EQ(p.image.segments[3].offset, 0xfffff000u - 0x1000);
  EXPECT_EQ(p.image.segments[4].offset, 0xfffff000u);
  EXPECT_EQ(p.image.limits.min, 65536u);
}

std::string snapshot_error(const Bytes& snap) {
  SplitSnapshot s;
  std::string err;
  return split_snapshot(snap, &s, &err) ? "" : err;
}

TEST(PackSnapshot, RefusesCorruptSnapshots) {
  EXPECT_NE(snapshot_error({}).find("not a c2w snapshot"), std::string::npos);
  Bytes v2 = build_snapshot(kMiB, {1});
  v2[8] = 2;
  EXPECT_NE(snapshot_error(v2).find("snapshot version 2"), std::string::npos);
  EXPECT_NE(snapshot_error(build_snapshot(kMiB, {5, 3})).find("out of order"), std::string::npos);
  EXPECT_NE(snapshot_error(build_snapshot(kMiB, {5, 5})).find("out of order"), std::string::npos);
  EXPECT_NE(snapshot_error(build_snapshot(kMiB, {256})).find("out of range"), std::string::npos);
  EXPECT_NE(snapshot_error(build_snapshot(kMiB + 100, {})).find("CONF says"), std::string::npos);
  Bytes extra = build_snapshot(kMiB, {1});
  extra.push_back(0);
  EXPECT_NE(snapshot_error(extra).find("after the END"), std::string::npos);
  // The stored count must match the pages present.
  Bytes count = build_snapshot(kMiB, {1, 2});
  const Bytes plain = build_snapshot(kMiB, {});
  const size_t stored_at = plain.size() - 12 - 8;  // RAM payload ends with the stored count
  ASSERT_EQ(count[stored_at], 2);
  count[stored_at] = 3;
  EXPECT_NE(snapshot_error(count).find("claims 3 stored pages"), std::string::npos);
  // A section after RAM other than END.
  Bytes late = plain;
  late.insert(late.end() - 12, {'X', 'T', 'R', 'A', 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_NE(snapshot_error(late).find("RAM is not the last section"), std::string::npos);
  Bytes page_size = plain;
  page_size[plain.size() - 12 - 20 + 1] = 0x20;  // 4096 -> 8192
  EXPECT_NE(snapshot_error(page_size).find("page size 8192"), std::string::npos);
}

TEST(PackSnapshot, TruncationsAndCorruptionNeverCrash) {
  const Bytes good = build_snapshot(64 * 1024, {0, 3, 15}, 9);
  for (size_t n = 0; n < good.size(); n += (n < 400 ? 1 : 97))
    EXPECT_NE(snapshot_error(Bytes(good.begin(), good.begin() + n)), "") << n;
  std::mt19937 rng(99);
  const Bytes runtime = build_runtime();
  for (int round = 0; round < 3000; ++round) {
    Bytes bad = good;
    for (int i = 0; i < 3; ++i) {
      // Mostly the headers, where the structure is.
      const size_t at = (rng() % 4) ? rng() % 400 : rng() % bad.size();
      bad[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    SplitSnapshot s;
    std::string err;
    if (split_snapshot(bad, &s, &err)) {
      for (const SnapshotPage& page : s.pages) ASSERT_LT(page.index, s.ram_size / 4096);
    }
    PackResult r;
    pack(runtime, bad, {}, &r, &err);  // either way, no crash
  }
}

// ---- In node: the packed module instantiates and its own code sees the machine ----

void check_in_node(const RuntimeSpec& spec, uint64_t ram_size, const std::vector<uint32_t>& pages) {
  const Packed p = pack_ok(build_runtime(spec), build_snapshot(ram_size, pages, 7), {}, false);
  const PackReport& r = p.result.report;
  ASSERT_GT(r.state_addr, r.ram_base);
  c2w::testing::TempDir dir("c2w-pack-test");
  const auto wasm = dir.path() / "out.wasm", expected = dir.path() / "expected.bin";
  std::ofstream(wasm, std::ios::binary)
      .write(reinterpret_cast<const char*>(p.result.wasm.data()), p.result.wasm.size());
  // What must be at ram_base: every RAM page (zero unless stored), the rest of the RAM region
  // (zero), then the state.
  Bytes want(r.state_addr - r.ram_base, 0);
  for (uint32_t page : pages)
    for (uint32_t o = 0; o < 4096; ++o) want[uint64_t{page} * 4096 + o] = page_byte(page, o, 7);
  append(want, build_snapshot(ram_size, {}, 7));
  want.resize((want.size() + 3) & ~size_t{3});
  auto write_expected = [&](const Bytes& b) {
    std::ofstream(expected, std::ios::binary)
        .write(reinterpret_cast<const char*>(b.data()), b.size());
  };
  write_expected(want);
  const std::vector<std::string> argv = {"node", C2W_PACK_NODE_CHECK, wasm.string(),
                                         expected.string(), std::to_string(r.ram_base)};
  const auto run = c2w::testing::run_command(argv);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto json = nlohmann::json::parse(run.output.substr(run.output.find('{')));
  EXPECT_EQ(json["info"], spec.info_address);
  const std::vector<uint64_t> words = {
      kPackInfoMagic,      2,        spec.ram_base, spec.ram_capacity, spec.state(),
      spec.state_capacity, ram_size, r.state_len};
  EXPECT_EQ(json["words"].get<std::vector<uint64_t>>(), words);
  // The memory V8 made is the runtime's, as linked.
  EXPECT_EQ(json["memoryBytes"], uint64_t{spec.memory_pages()} * 65536);
  EXPECT_EQ(r.memory_pages_after, spec.memory_pages());
  EXPECT_EQ(json["checked"], want.size() / 4);

  // The check can fail: one wrong byte in the expectation is caught.
  want[pages.back() * 4096 + 100] ^= 1;
  write_expected(want);
  const auto bad = c2w::testing::run_command(argv);
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("\"mismatches\":[["), std::string::npos) << bad.output;
}

TEST(PackNode, RamAndStateAreWhereThePackInfoSays) {
  RuntimeSpec spec;
  spec.data_count = true;
  spec.passive_segment = true;
  spec.ram_capacity = 3 * kMiB;  // more than the machine's 2 MiB: the rest stays zero
  spec.max_pages = 100;
  check_in_node(spec, 2 * kMiB, {0, 1, 7, 8, 9, 300, 511});
}

TEST(PackNode, RamAbove2GiB) {
  RuntimeSpec spec;
  spec.ram_base = 0x80030000;  // i32.const offsets are negative
  spec.ram_capacity = kMiB;
  check_in_node(spec, kMiB, {0, 2, 255});
}

}  // namespace
