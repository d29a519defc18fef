#include "ops/pack/wasm_module.h"

#include <cstring>

namespace c2w::pack {
namespace {

constexpr uint8_t kMagic[4] = {0x00, 'a', 's', 'm'};
constexpr uint8_t kVersion[4] = {0x01, 0x00, 0x00, 0x00};

const char* section_name(uint8_t id) {
  static const char* const names[] = {"custom", "type",   "import",    "function", "table",
                                      "memory", "global", "export",    "start",    "element",
                                      "code",   "data",   "datacount", "tag"};
  return id < sizeof(names) / sizeof(names[0]) ? names[id] : "unknown";
}

// Position of each non-custom section in the order the spec requires (tag sits between
// memory and global, DataCount before code).
int section_rank(uint8_t id) {
  static const int ranks[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
  return ranks[id];
}

std::string hex(uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  do s.insert(s.begin(), digits[v & 15]), v >>= 4;
  while (v);
  return "0x" + s;
}

// Finishes a decoder: the whole payload must have been read, without errors.
bool finish(const Cursor& c, const Section& s, std::string* error) {
  if (c.ok() && c.at_end()) return true;
  std::string why =
      c.ok() ? "unexpected bytes after the last entry at byte " + std::to_string(s.offset + c.pos())
             : c.error();
  *error = std::string(section_name(s.id)) + " section: " + why;
  return false;
}

// A value type: one byte, or a reference type with a heap type (typed references).
uint8_t read_value_type(Cursor& c) {
  const uint8_t t = c.u8();
  if (t == 0x63 || t == 0x64) c.s64();
  return t;
}

void skip_limits(Cursor& c) {
  const uint8_t flags = c.u8();
  if (flags & ~0x07) return c.fail("unknown limits flags " + hex(flags));
  const unsigned numbers = (flags & 0x01) ? 2 : 1;  // min, and max if present
  for (unsigned i = 0; i < numbers; ++i) {
    if (flags & 0x04)  // 64-bit table or memory
      c.u64();
    else
      c.u32();
  }
}

// Reads a constant expression up to its `end`; `i32` is set when it is exactly
// `i32.const N; end`.
void read_const_expr(Cursor& c, std::optional<int32_t>* i32) {
  i32->reset();
  std::optional<int32_t> first;
  for (unsigned n = 0; c.ok(); ++n) {
    const uint8_t op = c.u8();
    if (!c.ok()) return;
    switch (op) {
      case 0x0b:  // end
        if (n == 1) *i32 = first;
        return;
      case 0x41: {  // i32.const
        const int32_t v = c.s32();
        if (n == 0) first = v;
        break;
      }
      case 0x42:  // i64.const
        c.s64();
        break;
      case 0x43:  // f32.const
        c.bytes(4);
        break;
      case 0x44:  // f64.const
        c.bytes(8);
        break;
      case 0x23:  // global.get
      case 0xd2:  // ref.func
        c.u32();
        break;
      case 0xd0:  // ref.null heaptype
        c.s64();
        break;
      case 0x6a:  // i32.add, i32.sub, i32.mul, i64.add, i64.sub, i64.mul (extended-const)
      case 0x6b:
      case 0x6c:
      case 0x7c:
      case 0x7d:
      case 0x7e:
        break;
      case 0xfd:  // v128.const
        if (c.u32() != 12) return c.fail("unsupported SIMD instruction in a constant expression");
        c.bytes(16);
        break;
      default:
        return c.fail("unsupported instruction " + hex(op) + " in a constant expression");
    }
  }
}

}  // namespace

// ---- LEB128 ----

void put_uleb(Bytes& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v) b |= 0x80;
    out.push_back(b);
  } while (v);
}

void put_sleb(Bytes& out, int64_t v) {
  for (;;) {
    const uint8_t b = static_cast<uint8_t>(v) & 0x7f;
    v >>= 7;  // arithmetic shift (C++20)
    const bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
    out.push_back(done ? b : b | 0x80);
    if (done) return;
  }
}

// ---- Cursor ----

void Cursor::fail(const std::string& why) {
  if (ok()) error_ = why + " at byte " + std::to_string(base_ + pos_);
}

uint8_t Cursor::u8() {
  if (!ok()) return 0;
  if (pos_ >= data_.size()) return fail("unexpected end"), 0;
  return data_[pos_++];
}

uint64_t Cursor::leb(unsigned bits, bool is_signed) {
  if (!ok()) return 0;
  const size_t start = pos_;
  const unsigned max_bytes = (bits + 6) / 7;
  uint64_t result = 0;
  for (unsigned i = 0, shift = 0; i < max_bytes; ++i, shift += 7) {
    if (pos_ >= data_.size()) {
      pos_ = start;
      return fail("truncated LEB128 number"), 0;
    }
    const uint8_t b = data_[pos_++];
    if (i == max_bytes - 1) {
      // The last byte may only carry the bits left of the type; the rest must be zero
      // (unsigned) or copies of the sign bit (signed).
      const unsigned used = bits - shift;
      const uint8_t unused = 0x7f & ~((1u << used) - 1);
      const uint8_t want = is_signed && (b >> (used - 1) & 1) ? unused : 0;
      if ((b & 0x80) || (b & unused) != want) {
        pos_ = start;
        return fail((b & 0x80) ? "LEB128 number longer than " + std::to_string(max_bytes) + " bytes"
                               : "LEB128 number overflows " + std::to_string(bits) + " bits"),
               0;
      }
    }
    result |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) {
      if (is_signed && shift + 7 < 64 && (b & 0x40)) result |= ~uint64_t{0} << (shift + 7);
      return result;
    }
  }
  return result;  // not reached: the last byte either ends the number or fails
}

uint32_t Cursor::u32() {
  return static_cast<uint32_t>(leb(32, false));
}
uint64_t Cursor::u64() {
  return leb(64, false);
}
int32_t Cursor::s32() {
  return static_cast<int32_t>(static_cast<uint32_t>(leb(32, true)));
}
int64_t Cursor::s64() {
  return static_cast<int64_t>(leb(64, true));
}

std::span<const uint8_t> Cursor::bytes(uint64_t n) {
  if (!ok()) return {};
  if (n > remaining()) {
    fail("unexpected end (" + std::to_string(n) + " bytes needed, " + std::to_string(remaining()) +
         " left)");
    return {};
  }
  auto out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

std::string Cursor::name() {
  const uint32_t n = u32();
  auto b = bytes(n);
  return std::string(b.begin(), b.end());
}

// ---- Module ----

Section* Module::find(uint8_t id) {
  for (Section& s : sections)
    if (s.id == id) return &s;
  return nullptr;
}

const Section* Module::find(uint8_t id) const {
  for (const Section& s : sections)
    if (s.id == id) return &s;
  return nullptr;
}

size_t Module::insert_position(uint8_t id) const {
  size_t at = 0;
  for (size_t i = 0; i < sections.size(); ++i) {
    const uint8_t other = sections[i].id;
    if (other != kCustomSection && section_rank(other) < section_rank(id)) at = i + 1;
  }
  return at;
}

bool parse_module(std::span<const uint8_t> wasm, Module* out, std::string* error) {
  out->sections.clear();
  auto bad = [&](const std::string& why) {
    *error = "malformed WebAssembly module: " + why;
    out->sections.clear();
    return false;
  };
  if (wasm.size() < 8 || std::memcmp(wasm.data(), kMagic, 4) != 0)
    return bad("no \\0asm magic (not a WebAssembly binary)");
  if (std::memcmp(wasm.data() + 4, kVersion, 4) != 0)
    return bad("version " + std::to_string(wasm[4] | wasm[5] << 8 | wasm[6] << 16 | wasm[7] << 24) +
               " (only version 1 core modules are supported)");
  Cursor c(wasm.subspan(8), 8);
  int last_rank = 0;
  while (!c.at_end()) {
    const size_t header = c.pos();
    Section s;
    s.id = c.u8();
    if (s.id > kTagSection) {
      c.fail("unknown section id " + std::to_string(s.id));
      return bad(c.error());
    }
    const size_t size_at = c.pos();
    const uint32_t size = c.u32();
    if (!c.ok()) return bad(std::string(section_name(s.id)) + " section size: " + c.error());
    if (size > c.remaining())
      return bad(std::string(section_name(s.id)) + " section at byte " +
                 std::to_string(8 + header) + " runs past the end of the module (size " +
                 std::to_string(size) + ", " + std::to_string(c.remaining()) + " bytes left)");
    s.size_field.assign(wasm.begin() + 8 + size_at, wasm.begin() + 8 + c.pos());
    s.offset = 8 + c.pos();
    auto payload = c.bytes(size);
    s.payload.assign(payload.begin(), payload.end());
    if (s.id == kCustomSection) {
      Cursor name(s.payload, s.offset);
      name.name();
      if (!name.ok()) return bad("custom section name: " + name.error());
    } else {
      const int rank = section_rank(s.id);
      if (rank <= last_rank)
        return bad(std::string(section_name(s.id)) + " section at byte " +
                   std::to_string(8 + header) + " is out of order or repeated");
      last_rank = rank;
    }
    out->sections.push_back(std::move(s));
  }
  return true;
}

Bytes write_module(const Module& module) {
  Bytes out(8);
  std::memcpy(out.data(), kMagic, 4);
  std::memcpy(out.data() + 4, kVersion, 4);
  for (const Section& s : module.sections) {
    out.push_back(s.id);
    Cursor old(s.size_field);
    if (!s.size_field.empty() && old.u32() == s.payload.size() && old.ok() && old.at_end())
      out.insert(out.end(), s.size_field.begin(), s.size_field.end());
    else
      put_uleb(out, s.payload.size());
    out.insert(out.end(), s.payload.begin(), s.payload.end());
  }
  return out;
}

// ---- Section decoders ----

bool decode_memory(const Section& s, Limits* out, std::string* error) {
  Cursor c(s.payload, s.offset);
  const uint32_t count = c.u32();
  if (c.ok() && count != 1) {
    *error = "the module defines " + std::to_string(count) + " memories (exactly one is needed)";
    return false;
  }
  out->flags = c.u8();
  if (c.ok() && (out->flags & ~0x03))
    c.fail("memory flags " + hex(out->flags) + " (memory64 or unknown) are not supported");
  out->min = c.u32();
  out->max.reset();
  if (out->flags & 0x01) out->max = c.u32();
  if (c.ok() && (out->min > 65536 || (out->max && (*out->max > 65536 || *out->max < out->min))))
    c.fail("memory limits out of range");
  return finish(c, s, error);
}

Bytes encode_memory(const Limits& limits) {
  Bytes out;
  put_uleb(out, 1);
  out.push_back(static_cast<uint8_t>((limits.flags & ~0x01) | (limits.max ? 0x01 : 0x00)));
  put_uleb(out, limits.min);
  if (limits.max) put_uleb(out, *limits.max);
  return out;
}

bool decode_imports(const Section& s, ImportCounts* out, std::string* error) {
  *out = {};
  Cursor c(s.payload, s.offset);
  const uint32_t count = c.u32();
  for (uint32_t i = 0; i < count && c.ok(); ++i) {
    c.name();
    c.name();
    const uint8_t kind = c.u8();
    if (!c.ok()) break;
    switch (kind) {
      case kExternFunc:
        c.u32();  // type index
        ++out->functions;
        break;
      case kExternTable:
        read_value_type(c);
        skip_limits(c);
        ++out->tables;
        break;
      case kExternMemory:
        skip_limits(c);
        ++out->memories;
        break;
      case kExternGlobal:
        read_value_type(c);
        c.u8();  // mutability
        ++out->globals;
        break;
      case kExternTag:
        c.u8();   // attribute
        c.u32();  // type index
        ++out->tags;
        break;
      default:
        c.fail("unknown import kind " + hex(kind));
    }
  }
  return finish(c, s, error);
}

bool decode_exports(const Section& s, std::vector<Export>* out, std::string* error) {
  out->clear();
  Cursor c(s.payload, s.offset);
  const uint32_t count = c.u32();
  for (uint32_t i = 0; i < count && c.ok(); ++i) {
    Export e;
    e.name = c.name();
    e.kind = c.u8();
    e.index = c.u32();
    if (c.ok() && e.kind > kExternTag) c.fail("unknown export kind " + hex(e.kind));
    if (c.ok()) out->push_back(std::move(e));
  }
  return finish(c, s, error);
}

const Export* find_export(const std::vector<Export>& exports, std::string_view name, uint8_t kind) {
  for (const Export& e : exports)
    if (e.kind == kind && e.name == name) return &e;
  return nullptr;
}

bool decode_globals(const Section& s, std::vector<Global>* out, std::string* error) {
  out->clear();
  Cursor c(s.payload, s.offset);
  const uint32_t count = c.u32();
  for (uint32_t i = 0; i < count && c.ok(); ++i) {
    Global g;
    g.type = read_value_type(c);
    const uint8_t mut = c.u8();
    if (c.ok() && mut > 1) c.fail("global mutability " + hex(mut));
    g.is_mutable = mut == 1;
    read_const_expr(c, &g.i32_const);
    if (c.ok()) out->push_back(g);
  }
  return finish(c, s, error);
}

bool decode_data(const Section& s, std::vector<DataSegment>* out, std::string* error) {
  out->clear();
  Cursor c(s.payload, s.offset);
  const uint32_t count = c.u32();
  for (uint32_t i = 0; i < count && c.ok(); ++i) {
    DataSegment d;
    d.start = c.pos();
    d.mode = c.u32();
    if (d.mode == 2) d.memory = c.u32();
    if (d.mode == 0 || d.mode == 2) {
      std::optional<int32_t> offset;
      read_const_expr(c, &offset);
      if (offset) d.offset = static_cast<uint32_t>(*offset);
    } else if (d.mode != 1) {
      c.fail("data segment mode " + std::to_string(d.mode));
    }
    d.init_size = c.u32();
    d.init_start = c.pos();
    c.bytes(d.init_size);
    d.size = c.pos() - d.start;
    if (c.ok()) out->push_back(d);
  }
  return finish(c, s, error);
}

void put_active_segment_header(Bytes& out, uint32_t address, uint64_t size) {
  put_uleb(out, 0);     // active, memory 0
  out.push_back(0x41);  // i32.const
  put_sleb(out, static_cast<int32_t>(address));
  out.push_back(0x0b);  // end
  put_uleb(out, size);
}

void put_active_segment(Bytes& out, uint32_t address, std::span<const uint8_t> bytes) {
  put_active_segment_header(out, address, bytes.size());
  out.insert(out.end(), bytes.begin(), bytes.end());
}

bool decode_datacount(const Section& s, uint32_t* out, std::string* error) {
  Cursor c(s.payload, s.offset);
  *out = c.u32();
  return finish(c, s, error);
}

}  // namespace c2w::pack
