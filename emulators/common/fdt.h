// Flattened device tree (DTB, version 17, last compatible 16) writer and reader, as the
// Devicetree Specification 0.4 chapter 5 describes: header, memory reservation map, structure
// block and a deduplicated strings block, all big-endian.
//
// FdtWriter builds a blob node by node; finish() fails (empty result) if nodes are unbalanced.
// fdt_parse() decodes a blob back into a tree with every offset and length checked, for tests
// and for tools that inspect what a machine hands to its kernel.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace c2w::emulators {

class FdtWriter {
 public:
  void add_reservation(uint64_t address, uint64_t size) { rsv_.emplace_back(address, size); }

  void begin_node(std::string_view name);
  void end_node();

  void prop(std::string_view name, const void* data, uint32_t len);
  void prop_empty(std::string_view name) { prop(name, nullptr, 0); }
  void prop_u32(std::string_view name, uint32_t v) { prop_cells(name, {v}); }
  // One 64-bit value as two cells (high first), as linux,initrd-start expects.
  void prop_u64(std::string_view name, uint64_t v);
  void prop_cells(std::string_view name, std::initializer_list<uint32_t> cells);
  void prop_cells(std::string_view name, const std::vector<uint32_t>& cells);
  void prop_str(std::string_view name, std::string_view value);
  void prop_strs(std::string_view name, std::initializer_list<std::string_view> values);

  // The finished blob, or an empty vector if begin_node/end_node calls did not balance.
  std::vector<uint8_t> finish(uint32_t boot_cpuid = 0) const;

 private:
  uint32_t string_offset(std::string_view name);
  void token(uint32_t v);
  void pad();

  std::vector<std::pair<uint64_t, uint64_t>> rsv_;
  std::vector<uint8_t> structure_;
  std::string strings_;
  int depth_ = 0;
  bool bad_ = false;
};

struct FdtNode {
  std::string name;
  std::vector<std::pair<std::string, std::vector<uint8_t>>> props;
  std::vector<FdtNode> children;

  const FdtNode* child(std::string_view child_name) const;
  const std::vector<uint8_t>* prop(std::string_view prop_name) const;
  // Convenience decoders; false if the property is absent or has the wrong size.
  bool prop_u32(std::string_view prop_name, uint32_t* v) const;
  bool prop_u64(std::string_view prop_name, uint64_t* v) const;
  // The first string of a string or stringlist property ("" if absent).
  std::string prop_str(std::string_view prop_name) const;
};

struct Fdt {
  uint32_t version = 0;
  uint32_t boot_cpuid = 0;
  std::vector<std::pair<uint64_t, uint64_t>> reservations;
  FdtNode root;
};

// Decodes a DTB of at most len bytes. Returns false with *error set on any malformed input.
bool fdt_parse(const uint8_t* data, uint64_t len, Fdt* out, std::string* error);

}  // namespace c2w::emulators
