// The WebAssembly reader/writer of the pack op: LEB128 at the edges, byte-identical round
// trips, and malformed or hostile modules refused with an error (never a crash).
#include <gtest/gtest.h>

#include <random>

#include "tests/unit/pack_support.h"

namespace {

using namespace c2w::pack;
using packtest::build_runtime;
using packtest::RuntimeSpec;

Bytes uleb(uint64_t v) {
  Bytes b;
  put_uleb(b, v);
  return b;
}

Bytes sleb(int64_t v) {
  Bytes b;
  put_sleb(b, v);
  return b;
}

TEST(PackLeb, UnsignedEncodings) {
  EXPECT_EQ(uleb(0), Bytes({0x00}));
  EXPECT_EQ(uleb(127), Bytes({0x7f}));
  EXPECT_EQ(uleb(128), Bytes({0x80, 0x01}));
  EXPECT_EQ(uleb(624485), Bytes({0xe5, 0x8e, 0x26}));
  EXPECT_EQ(uleb(UINT32_MAX), Bytes({0xff, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(uleb(UINT64_MAX), Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST(PackLeb, SignedEncodings) {
  EXPECT_EQ(sleb(0), Bytes({0x00}));
  EXPECT_EQ(sleb(-1), Bytes({0x7f}));
  EXPECT_EQ(sleb(63), Bytes({0x3f}));
  EXPECT_EQ(sleb(64), Bytes({0xc0, 0x00}));  // bit 6 set would read as negative
  EXPECT_EQ(sleb(-64), Bytes({0x40}));
  EXPECT_EQ(sleb(-65), Bytes({0xbf, 0x7f}));
  EXPECT_EQ(sleb(127), Bytes({0xff, 0x00}));
  EXPECT_EQ(sleb(INT32_MAX), Bytes({0xff, 0xff, 0xff, 0xff, 0x07}));
  // Address 2^31 as an i32.const operand is the signed value -2^31.
  EXPECT_EQ(sleb(INT32_MIN), Bytes({0x80, 0x80, 0x80, 0x80, 0x78}));
  EXPECT_EQ(sleb(static_cast<int32_t>(0xfffff000u)), Bytes({0x80, 0x60}));
  EXPECT_EQ(sleb(INT64_MIN), Bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}));
  EXPECT_EQ(sleb(INT64_MAX), Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}));
}

TEST(PackLeb, DecodesWhatItEncodes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);
    Bytes b;
    put_uleb(b, static_cast<uint32_t>(v));
    put_uleb(b, v);
    put_sleb(b, static_cast<int32_t>(v));
    put_sleb(b, static_cast<int64_t>(v));
    Cursor c(b);
    EXPECT_EQ(c.u32(), static_cast<uint32_t>(v));
    EXPECT_EQ(c.u64(), v);
    EXPECT_EQ(c.s32(), static_cast<int32_t>(v));
    EXPECT_EQ(c.s64(), static_cast<int64_t>(v));
    ASSERT_TRUE(c.ok() && c.at_end()) << c.error();
  }
}

// Reads one number of the given kind from `bytes`; returns its error ("" if fine).
std::string leb_error(const Bytes& bytes, char kind, int64_t* value = nullptr) {
  Cursor c(bytes);
  int64_t v = 0;
  switch (kind) {
    case 'u':
      v = c.u32();
      break;
    case 'U':
      v = static_cast<int64_t>(c.u64());
      break;
    case 's':
      v = c.s32();
      break;
    case 'S':
      v = c.s64();
      break;
  }
  if (value) *value = v;
  return c.error();
}

TEST(PackLeb, PaddedNumbersWithinTheLimitAreAccepted) {
  int64_t v = -1;
  EXPECT_EQ(leb_error({0x80, 0x80, 0x80, 0x80, 0x00}, 'u', &v), "");
  EXPECT_EQ(v, 0);
  EXPECT_EQ(leb_error({0x85, 0x80, 0x80, 0x80, 0x00}, 'u', &v), "");
  EXPECT_EQ(v, 5);
  EXPECT_EQ(leb_error({0xff, 0xff, 0xff, 0xff, 0x7f}, 's', &v), "");
  EXPECT_EQ(v, -1);
  EXPECT_EQ(leb_error({0x80, 0x80, 0x80, 0x80, 0x78}, 's', &v), "");
  EXPECT_EQ(v, INT32_MIN);
}

TEST(PackLeb, OverlongAndOverflowingNumbersAreRefused) {
  EXPECT_NE(leb_error({0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 'u').find("longer than 5"),
            std::string::npos);
  EXPECT_NE(leb_error({0xff, 0xff, 0xff, 0xff, 0x1f}, 'u').find("overflows 32"), std::string::npos);
  EXPECT_NE(leb_error({0xff, 0xff, 0xff, 0xff, 0x10}, 'u'), "");
  // Signed: the unused high bits of the last byte must copy the sign bit.
  EXPECT_NE(leb_error({0xff, 0xff, 0xff, 0xff, 0x0f}, 's'), "");  // bit 3 set, high bits clear
  EXPECT_NE(leb_error({0x80, 0x80, 0x80, 0x80, 0x70}, 's'), "");  // bit 3 clear, high bits set
  EXPECT_EQ(leb_error({0xff, 0xff, 0xff, 0xff, 0x07}, 's'), "");
  Bytes u64_max(9, 0xff);
  u64_max.push_back(0x01);
  EXPECT_EQ(leb_error(u64_max, 'U'), "");
  u64_max.back() = 0x02;
  EXPECT_NE(leb_error(u64_max, 'U').find("overflows 64"), std::string::npos);
  Bytes s64(9, 0x80);
  s64.push_back(0x7f);
  EXPECT_EQ(leb_error(s64, 'S'), "");
  s64.back() = 0x01;
  EXPECT_NE(leb_error(s64, 'S'), "");
  Bytes long64(10, 0x80);
  long64.push_back(0x00);
  EXPECT_NE(leb_error(long64, 'U').find("longer than 10"), std::string::npos);
}

TEST(PackLeb, TruncatedNumbersAreRefused) {
  EXPECT_NE(leb_error({}, 'u'), "");
  EXPECT_NE(leb_error({0x80}, 'u').find("truncated"), std::string::npos);
  EXPECT_NE(leb_error({0xff, 0xff}, 'S').find("truncated"), std::string::npos);
}

TEST(PackLeb, ErrorsAreStickyAndNameTheOffset) {
  Bytes b = {0x05, 0x80};
  Cursor c(b, 100);
  EXPECT_EQ(c.u32(), 5u);
  EXPECT_EQ(c.u32(), 0u);
  EXPECT_EQ(c.u8(), 0u);  // after a failure every read is zero
  EXPECT_EQ(c.error(), "truncated LEB128 number at byte 101");
}

TEST(PackModule, RoundTripsByteIdentical) {
  for (bool padded : {false, true}) {
    RuntimeSpec spec;
    spec.padded_sizes = padded;
    spec.data_count = true;
    spec.passive_segment = true;
    const Bytes wasm = build_runtime(spec);
    Module m;
    std::string err;
    ASSERT_TRUE(parse_module(wasm, &m, &err)) << err;
    EXPECT_EQ(m.sections.size(), 9u);
    EXPECT_EQ(write_module(m), wasm) << "padded " << padded;
  }
}

TEST(PackModule, ChangedSectionsGetANewSizeField) {
  RuntimeSpec spec;
  spec.padded_sizes = true;
  Module m;
  std::string err;
  ASSERT_TRUE(parse_module(build_runtime(spec), &m, &err)) << err;
  Section* custom = m.find(kCustomSection);
  ASSERT_NE(custom, nullptr);
  custom->payload.push_back(9);  // the old size field no longer fits
  const Bytes out = write_module(m);
  Module again;
  ASSERT_TRUE(parse_module(out, &again, &err)) << err;
  EXPECT_EQ(again.find(kCustomSection)->payload, custom->payload);
  EXPECT_EQ(again.find(kCustomSection)->size_field,
            Bytes{static_cast<uint8_t>(custom->payload.size())});
  EXPECT_EQ(again.find(kTypeSection)->size_field.size(), 5u) << "unchanged sections keep theirs";
}

TEST(PackModule, DecodesTheSectionsPackNeeds) {
  RuntimeSpec spec;
  spec.max_pages = 1000;
  spec.import_global = true;
  spec.data_count = true;
  spec.passive_segment = true;
  spec.info_address = 0x80001000;  // a negative i32.const
  Module m;
  std::string err;
  ASSERT_TRUE(parse_module(build_runtime(spec), &m, &err)) << err;
  Limits limits;
  ASSERT_TRUE(decode_memory(*m.find(kMemorySection), &limits, &err)) << err;
  EXPECT_EQ(limits.min, spec.memory_pages());
  EXPECT_EQ(limits.max, 1000u);
  ImportCounts imports;
  ASSERT_TRUE(decode_imports(*m.find(kImportSection), &imports, &err)) << err;
  EXPECT_EQ(imports.globals, 1u);
  EXPECT_EQ(imports.memories, 0u);
  std::vector<Export> exports;
  ASSERT_TRUE(decode_exports(*m.find(kExportSection), &exports, &err)) << err;
  const Export* info = find_export(exports, "c2w_pack_info", kExternGlobal);
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->index, 2u);
  EXPECT_EQ(find_export(exports, "c2w_pack_info", kExternFunc), nullptr);
  std::vector<Global> globals;
  ASSERT_TRUE(decode_globals(*m.find(kGlobalSection), &globals, &err)) << err;
  ASSERT_EQ(globals.size(), 2u);
  EXPECT_TRUE(globals[0].is_mutable);
  EXPECT_EQ(globals[1].i32_const, static_cast<int32_t>(0x80001000u));
  std::vector<DataSegment> segs;
  ASSERT_TRUE(decode_data(*m.find(kDataSection), &segs, &err)) << err;
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0].offset, 1024u);
  EXPECT_EQ(segs[0].init_size, 5u);
  EXPECT_EQ(segs[1].offset, 0x80001000u - 8);
  EXPECT_EQ(segs[2].mode, 1u);
  EXPECT_FALSE(segs[2].offset);
  const Bytes& payload = m.find(kDataSection)->payload;
  EXPECT_EQ(
      std::string(payload.begin() + segs[0].init_start, payload.begin() + segs[0].init_start + 5),
      "hello");
  uint32_t count = 0;
  ASSERT_TRUE(decode_datacount(*m.find(kDataCountSection), &count, &err)) << err;
  EXPECT_EQ(count, 3u);
}

TEST(PackModule, SegmentsAtHighAddressesUseSignedOffsets) {
  for (uint32_t address : {0u, 63u, 64u, 0x7fffffffu, 0x80000000u, 0xfffff000u, 0xffffffffu}) {
    Bytes payload = {0x01};
    put_active_segment(payload, address, Bytes{1, 2, 3});
    Section s{kDataSection, payload, 0, {}};
    std::vector<DataSegment> segs;
    std::string err;
    ASSERT_TRUE(decode_data(s, &segs, &err)) << err;
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_EQ(segs[0].offset, address);
    // i32.const's operand is exactly the signed LEB of the address.
    const Bytes expr(payload.begin() + 3, payload.begin() + segs[0].init_start - 2);
    EXPECT_EQ(expr, sleb(static_cast<int32_t>(address))) << address;
  }
}

TEST(PackModule, InsertPositionKeepsTheSpecOrder) {
  Module m;
  for (uint8_t id : {kTypeSection, kMemorySection, kCodeSection, kCustomSection})
    m.sections.push_back({id, {}, 0, {}});
  EXPECT_EQ(m.insert_position(kDataSection), 3u);       // after code, before the custom one
  EXPECT_EQ(m.insert_position(kDataCountSection), 2u);  // DataCount precedes code
  EXPECT_EQ(m.insert_position(kTagSection), 2u);        // tag follows memory
  EXPECT_EQ(m.insert_position(kImportSection), 1u);
}

std::string parse_error(const Bytes& wasm) {
  Module m;
  std::string err;
  return parse_module(wasm, &m, &err) ? "" : err;
}

TEST(PackModule, MalformedModulesAreRefused) {
  const Bytes good = build_runtime();
  EXPECT_NE(parse_error({}).find("magic"), std::string::npos);
  EXPECT_NE(parse_error({'\0', 'a', 's', 'n', 1, 0, 0, 0}).find("magic"), std::string::npos);
  EXPECT_NE(parse_error({'\0', 'a', 's', 'm', 0x0d, 0, 1, 0}).find("version 65549"),
            std::string::npos);
  EXPECT_EQ(parse_error({'\0', 'a', 's', 'm', 1, 0, 0, 0}), "");  // empty module

  Bytes past = good;
  past.resize(good.size() - 1);
  EXPECT_NE(parse_error(past).find("custom section at byte"), std::string::npos);
  EXPECT_NE(parse_error(past).find("runs past the end"), std::string::npos);

  Bytes unknown = good;
  unknown.insert(unknown.end(), {14, 0});
  EXPECT_NE(parse_error(unknown).find("unknown section id 14"), std::string::npos);

  Bytes repeated = good;
  repeated.insert(repeated.end(), {kTypeSection, 1, 0});
  EXPECT_NE(parse_error(repeated).find("out of order or repeated"), std::string::npos);

  Bytes bad_size = good;
  bad_size.insert(bad_size.end(), {kCustomSection, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
  EXPECT_NE(parse_error(bad_size).find("LEB128"), std::string::npos);

  Bytes bad_custom = good;
  bad_custom.insert(bad_custom.end(), {kCustomSection, 1, 5});  // name length 5, no bytes
  EXPECT_NE(parse_error(bad_custom).find("custom section name"), std::string::npos);
}

TEST(PackModule, DecodersRefuseBadSections) {
  std::string err;
  Limits limits;
  EXPECT_FALSE(
      decode_memory({kMemorySection, {0x02, 0x00, 0x01, 0x00, 0x01}, 0, {}}, &limits, &err));
  EXPECT_NE(err.find("2 memories"), std::string::npos);
  EXPECT_FALSE(decode_memory({kMemorySection, {0x01, 0x04, 0x01}, 0, {}}, &limits, &err));
  EXPECT_NE(err.find("memory64"), std::string::npos);
  EXPECT_FALSE(decode_memory({kMemorySection, {0x01, 0x01, 0x05, 0x04}, 0, {}}, &limits, &err));
  EXPECT_NE(err.find("out of range"), std::string::npos);
  EXPECT_FALSE(decode_memory({kMemorySection, {0x01, 0x00, 0x01, 0x00}, 40, {}}, &limits, &err));
  EXPECT_EQ(err, "memory section: unexpected bytes after the last entry at byte 43");
  std::vector<DataSegment> segs;
  EXPECT_FALSE(decode_data({kDataSection, {0x01, 0x03}, 0, {}}, &segs, &err));
  EXPECT_NE(err.find("data segment mode 3"), std::string::npos);
  EXPECT_FALSE(
      decode_data({kDataSection, {0x01, 0x00, 0x41, 0x00, 0x0b, 0x09, 1}, 0, {}}, &segs, &err));
  EXPECT_NE(err.find("9 bytes needed"), std::string::npos);
  std::vector<Global> globals;
  EXPECT_FALSE(decode_globals({kGlobalSection, {0x01, 0x7f, 0x00, 0x20, 0x00, 0x0b}, 0, {}},
                              &globals, &err));
  EXPECT_NE(err.find("unsupported instruction 0x20"), std::string::npos);
  // `i32.const 1; i32.const 2; i32.add; end` is a valid extended-const, but not a plain constant.
  ASSERT_TRUE(decode_globals(
      {kGlobalSection, {0x01, 0x7f, 0x00, 0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b}, 0, {}}, &globals,
      &err))
      << err;
  EXPECT_FALSE(globals[0].i32_const);
}

// Runs every decoder on whatever parses: the point is that nothing crashes or hangs.
void decode_everything(const Bytes& wasm) {
  Module m;
  std::string err;
  if (!parse_module(wasm, &m, &err)) {
    EXPECT_FALSE(err.empty());
    return;
  }
  Limits limits;
  ImportCounts imports;
  std::vector<Export> exports;
  std::vector<Global> globals;
  std::vector<DataSegment> segs;
  uint32_t count;
  for (const Section& s : m.sections) {
    switch (s.id) {
      case kMemorySection:
        decode_memory(s, &limits, &err);
        break;
      case kImportSection:
        decode_imports(s, &imports, &err);
        break;
      case kExportSection:
        decode_exports(s, &exports, &err);
        break;
      case kGlobalSection:
        decode_globals(s, &globals, &err);
        break;
      case kDataSection:
        if (decode_data(s, &segs, &err)) {
          for (const DataSegment& d : segs) EXPECT_LE(d.init_start + d.init_size, s.payload.size());
        }
        break;
      case kDataCountSection:
        decode_datacount(s, &count, &err);
        break;
    }
  }
  EXPECT_EQ(write_module(m), wasm);
}

TEST(PackModule, EveryTruncationIsHandled) {
  RuntimeSpec spec;
  spec.import_global = true;
  spec.data_count = true;
  spec.passive_segment = true;
  const Bytes good = build_runtime(spec);
  size_t accepted = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    const Bytes cut(good.begin(), good.begin() + n);
    decode_everything(cut);
    accepted += parse_error(cut).empty();
  }
  // Only cuts at section boundaries (including after the header) parse.
  EXPECT_EQ(accepted, 10u);
}

TEST(PackModule, RandomCorruptionIsHandled) {
  RuntimeSpec spec;
  spec.import_global = true;
  spec.data_count = true;
  spec.passive_segment = true;
  const Bytes good = build_runtime(spec);
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    Bytes bad = good;
    const int flips = 1 + rng() % 4;
    for (int i = 0; i < flips; ++i) {
      const size_t at = 8 + rng() % (bad.size() - 8);
      bad[at] = (rng() % 2) ? static_cast<uint8_t>(rng()) : bad[at] ^ (1u << (rng() % 8));
    }
    decode_everything(bad);
    if (HasFailure()) FAIL() << "round " << round;
  }
}

}  // namespace
