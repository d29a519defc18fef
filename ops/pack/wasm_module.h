// A small WebAssembly binary reader/writer: just what pack needs, nothing that interprets code.
//
// Promises:
// - parse_module() keeps every section's payload as-is (and the exact bytes of its size field
//   while the size is unchanged), so write_module(parse_module(x)) == x byte for byte.
// - No input crashes it or makes it allocate more than the input's size: every read is bounded,
//   and malformed input (bad magic or version, truncation, a LEB128 longer than its type allows
//   or with stray high bits, a section running past the end, sections out of order) is refused
//   with an error string that names the problem and the byte offset.
// - The section decoders read the memory, import, export, global, data and DataCount sections;
//   data segments are located (not copied) so a caller can patch bytes in place or re-emit
//   them unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace c2w::pack {

using Bytes = std::vector<uint8_t>;

enum SectionId : uint8_t {
  kCustomSection = 0,
  kTypeSection = 1,
  kImportSection = 2,
  kFunctionSection = 3,
  kTableSection = 4,
  kMemorySection = 5,
  kGlobalSection = 6,
  kExportSection = 7,
  kStartSection = 8,
  kElementSection = 9,
  kCodeSection = 10,
  kDataSection = 11,
  kDataCountSection = 12,
  kTagSection = 13,
};

enum ExternKind : uint8_t {
  kExternFunc = 0,
  kExternTable = 1,
  kExternMemory = 2,
  kExternGlobal = 3,
  kExternTag = 4,
};

// ---- LEB128 ----
void put_uleb(Bytes& out, uint64_t v);
void put_sleb(Bytes& out, int64_t v);

// A bounded cursor. Reads past the end or malformed numbers set a sticky error (the first one
// wins) and return zero; check ok() after a group of reads. `base` is where data[0] sits in
// the whole module, for error messages.
class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> data, uint64_t base = 0) : data_(data), base_(base) {}

  uint8_t u8();
  uint32_t u32();  // unsigned LEB128, at most 5 bytes
  uint64_t u64();  // unsigned LEB128, at most 10 bytes
  int32_t s32();   // signed LEB128, at most 5 bytes
  int64_t s64();   // signed LEB128, at most 10 bytes
  std::span<const uint8_t> bytes(uint64_t n);
  std::string name();  // u32 length + bytes (UTF-8 is not checked)

  void fail(const std::string& why);  // records "<why> at byte <offset>" unless failed already
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  uint64_t leb(unsigned bits, bool is_signed);
  std::span<const uint8_t> data_;
  uint64_t base_;
  size_t pos_ = 0;
  std::string error_;
};

// ---- Module: header + sections ----
struct Section {
  uint8_t id = 0;
  Bytes payload;
  uint64_t offset = 0;  // of the payload in the parsed module (error messages); 0 if new
  Bytes size_field;     // the size LEB as read; written again while it still equals the size
};

struct Module {
  std::vector<Section> sections;

  Section* find(uint8_t id);
  const Section* find(uint8_t id) const;
  // Index at which a new non-custom section `id` belongs: right after the last non-custom
  // section that must precede it (custom sections after that one stay after the new one).
  size_t insert_position(uint8_t id) const;
};

bool parse_module(std::span<const uint8_t> wasm, Module* out, std::string* error);
Bytes write_module(const Module& module);

// ---- Section decoders (error: a message naming the section and the offset) ----

// Memory limits. flags: bit 0 = has max, bit 1 = shared; memory64 (bit 2) is refused.
struct Limits {
  uint8_t flags = 0;
  uint32_t min = 0;
  std::optional<uint32_t> max;
};
// The memory section must define exactly one memory.
bool decode_memory(const Section& s, Limits* out, std::string* error);
Bytes encode_memory(const Limits& limits);  // a memory section payload with that one memory

// How many of each kind a module imports (imported entries come first in each index space).
struct ImportCounts {
  uint32_t functions = 0, tables = 0, memories = 0, globals = 0, tags = 0;
};
bool decode_imports(const Section& s, ImportCounts* out, std::string* error);

struct Export {
  std::string name;
  uint8_t kind = 0;  // ExternKind
  uint32_t index = 0;
};
bool decode_exports(const Section& s, std::vector<Export>* out, std::string* error);
const Export* find_export(const std::vector<Export>& exports, std::string_view name, uint8_t kind);

// A defined global; i32_const is set when its init expression is exactly `i32.const N; end`.
struct Global {
  uint8_t type = 0;  // value type byte (0x7f = i32)
  bool is_mutable = false;
  std::optional<int32_t> i32_const;
};
bool decode_globals(const Section& s, std::vector<Global>* out, std::string* error);

// A data segment located inside the data section's payload.
struct DataSegment {
  uint32_t mode = 0;    // 0: active, memory 0; 1: passive; 2: active, explicit memory index
  uint32_t memory = 0;  // for active segments
  std::optional<uint32_t> offset;        // active and `i32.const N; end`: N as an unsigned address
  size_t start = 0, size = 0;            // the whole encoded segment
  size_t init_start = 0, init_size = 0;  // its bytes
};
bool decode_data(const Section& s, std::vector<DataSegment>* out, std::string* error);
// Appends one active segment for memory 0 at `address` (i32.const takes it as a signed LEB).
void put_active_segment(Bytes& out, uint32_t address, std::span<const uint8_t> bytes);
// The same without the bytes, for a caller that appends `size` bytes itself.
void put_active_segment_header(Bytes& out, uint32_t address, uint64_t size);

bool decode_datacount(const Section& s, uint32_t* out, std::string* error);

}  // namespace c2w::pack
