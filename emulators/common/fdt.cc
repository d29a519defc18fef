#include "emulators/common/fdt.h"

namespace c2w::emulators {
namespace {

constexpr uint32_t kMagic = 0xd00dfeed;
constexpr uint32_t kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9;
constexpr uint32_t kHeaderSize = 40;
constexpr int kMaxDepth = 64;

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

void put_be64(std::vector<uint8_t>& out, uint64_t v) {
  put_be32(out, static_cast<uint32_t>(v >> 32));
  put_be32(out, static_cast<uint32_t>(v));
}

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

uint64_t be64(const uint8_t* p) {
  return uint64_t{be32(p)} << 32 | be32(p + 4);
}

}  // namespace

void FdtWriter::token(uint32_t v) {
  put_be32(structure_, v);
}

void FdtWriter::pad() {
  while (structure_.size() % 4) structure_.push_back(0);
}

void FdtWriter::begin_node(std::string_view name) {
  token(kBeginNode);
  structure_.insert(structure_.end(), name.begin(), name.end());
  structure_.push_back(0);
  pad();
  ++depth_;
}

void FdtWriter::end_node() {
  if (depth_ == 0) {
    bad_ = true;
    return;
  }
  token(kEndNode);
  --depth_;
}

uint32_t FdtWriter::string_offset(std::string_view name) {
  // Linear search is fine: a machine's tree has a few dozen distinct property names.
  for (size_t pos = 0; pos < strings_.size();) {
    const size_t end = strings_.find('\0', pos);
    if (std::string_view(strings_).substr(pos, end - pos) == name)
      return static_cast<uint32_t>(pos);
    pos = end + 1;
  }
  const auto off = static_cast<uint32_t>(strings_.size());
  strings_.append(name);
  strings_.push_back('\0');
  return off;
}

void FdtWriter::prop(std::string_view name, const void* data, uint32_t len) {
  if (depth_ == 0) bad_ = true;
  token(kProp);
  token(len);
  token(string_offset(name));
  const auto* p = static_cast<const uint8_t*>(data);
  if (len) structure_.insert(structure_.end(), p, p + len);
  pad();
}

void FdtWriter::prop_u64(std::string_view name, uint64_t v) {
  prop_cells(name, {static_cast<uint32_t>(v >> 32), static_cast<uint32_t>(v)});
}

void FdtWriter::prop_cells(std::string_view name, std::initializer_list<uint32_t> cells) {
  prop_cells(name, std::vector<uint32_t>(cells));
}

void FdtWriter::prop_cells(std::string_view name, const std::vector<uint32_t>& cells) {
  std::vector<uint8_t> bytes;
  for (uint32_t c : cells) put_be32(bytes, c);
  prop(name, bytes.data(), static_cast<uint32_t>(bytes.size()));
}

void FdtWriter::prop_str(std::string_view name, std::string_view value) {
  prop_strs(name, {value});
}

void FdtWriter::prop_strs(std::string_view name, std::initializer_list<std::string_view> values) {
  std::string bytes;
  for (std::string_view v : values) {
    bytes.append(v);
    bytes.push_back('\0');
  }
  prop(name, bytes.data(), static_cast<uint32_t>(bytes.size()));
}

std::vector<uint8_t> FdtWriter::finish(uint32_t boot_cpuid) const {
  if (bad_ || depth_ != 0) return {};
  const uint32_t rsv_off = kHeaderSize;  // 8-byte aligned as the spec requires
  const auto rsv_size = static_cast<uint32_t>(16 * (rsv_.size() + 1));
  const uint32_t struct_off = rsv_off + rsv_size;
  const auto struct_size = static_cast<uint32_t>(structure_.size() + 4);  // + FDT_END
  const uint32_t strings_off = struct_off + struct_size;
  const auto strings_size = static_cast<uint32_t>(strings_.size());
  const uint32_t total = strings_off + strings_size;

  std::vector<uint8_t> out;
  out.reserve(total);
  for (uint32_t v : {kMagic, total, struct_off, strings_off, rsv_off, 17u, 16u, boot_cpuid,
                     strings_size, struct_size})
    put_be32(out, v);
  for (const auto& [addr, size] : rsv_) {
    put_be64(out, addr);
    put_be64(out, size);
  }
  put_be64(out, 0);
  put_be64(out, 0);
  out.insert(out.end(), structure_.begin(), structure_.end());
  put_be32(out, kEnd);
  out.insert(out.end(), strings_.begin(), strings_.end());
  return out;
}

const FdtNode* FdtNode::child(std::string_view child_name) const {
  for (const FdtNode& c : children)
    if (c.name == child_name) return &c;
  return nullptr;
}

const std::vector<uint8_t>* FdtNode::prop(std::string_view prop_name) const {
  for (const auto& [n, v] : props)
    if (n == prop_name) return &v;
  return nullptr;
}

bool FdtNode::prop_u32(std::string_view prop_name, uint32_t* v) const {
  const auto* p = prop(prop_name);
  if (!p || p->size() != 4) return false;
  *v = be32(p->data());
  return true;
}

bool FdtNode::prop_u64(std::string_view prop_name, uint64_t* v) const {
  const auto* p = prop(prop_name);
  if (!p || p->size() != 8) return false;
  *v = be64(p->data());
  return true;
}

std::string FdtNode::prop_str(std::string_view prop_name) const {
  const auto* p = prop(prop_name);
  if (!p) return {};
  std::string s(p->begin(), p->end());
  return s.substr(0, s.find('\0'));
}

bool fdt_parse(const uint8_t* data, uint64_t len, Fdt* out, std::string* error) {
  auto fail = [&](const char* why) {
    *error = why;
    return false;
  };
  if (len < kHeaderSize) return fail("shorter than a header");
  if (be32(data) != kMagic) return fail("bad magic");
  const uint32_t total = be32(data + 4), struct_off = be32(data + 8), strings_off = be32(data + 12),
                 rsv_off = be32(data + 16), version = be32(data + 20);
  const uint32_t strings_size = be32(data + 32), struct_size = be32(data + 36);
  if (total > len) return fail("totalsize beyond the buffer");
  if (version < 17) return fail("version older than 17");
  if (uint64_t{struct_off} + struct_size > total || uint64_t{strings_off} + strings_size > total ||
      rsv_off % 8 || rsv_off >= total || struct_off % 4)
    return fail("block outside the blob or misaligned");
  out->version = version;
  out->boot_cpuid = be32(data + 28);

  for (uint64_t p = rsv_off;; p += 16) {
    if (p + 16 > total) return fail("unterminated reservation map");
    const uint64_t a = be64(data + p), s = be64(data + p + 8);
    if (a == 0 && s == 0) break;
    out->reservations.emplace_back(a, s);
  }

  const uint8_t* st = data + struct_off;
  const uint8_t* strs = data + strings_off;
  uint64_t pos = 0;
  std::vector<FdtNode*> stack;
  bool root_done = false;
  auto next_token = [&](uint32_t* t) {
    if (pos + 4 > struct_size) return false;
    *t = be32(st + pos);
    pos += 4;
    return true;
  };
  for (;;) {
    uint32_t t;
    if (!next_token(&t)) return fail("structure block ends without FDT_END");
    if (t == kNop) continue;
    if (t == kEnd) break;
    if (t == kBeginNode) {
      uint64_t end = pos;
      while (end < struct_size && st[end] != 0) ++end;
      if (end >= struct_size) return fail("unterminated node name");
      std::string name(reinterpret_cast<const char*>(st + pos), end - pos);
      pos = (end + 1 + 3) & ~uint64_t{3};
      if (stack.empty()) {
        if (root_done) return fail("second root node");
        out->root = FdtNode{std::move(name), {}, {}};
        stack.push_back(&out->root);
      } else {
        if (stack.size() >= kMaxDepth) return fail("nodes nested too deeply");
        stack.back()->children.push_back(FdtNode{std::move(name), {}, {}});
        stack.push_back(&stack.back()->children.back());
      }
    } else if (t == kEndNode) {
      if (stack.empty()) return fail("FDT_END_NODE without a node");
      stack.pop_back();
      if (stack.empty()) root_done = true;
    } else if (t == kProp) {
      uint32_t plen, nameoff;
      if (stack.empty()) return fail("property outside a node");
      if (!next_token(&plen) || !next_token(&nameoff)) return fail("truncated property");
      if (plen > struct_size - pos) return fail("property value beyond the structure block");
      if (nameoff >= strings_size) return fail("property name outside the strings block");
      uint64_t nend = nameoff;
      while (nend < strings_size && strs[nend] != 0) ++nend;
      if (nend >= strings_size) return fail("unterminated property name");
      stack.back()->props.emplace_back(
          std::string(reinterpret_cast<const char*>(strs + nameoff), nend - nameoff),
          std::vector<uint8_t>(st + pos, st + pos + plen));
      pos = (pos + plen + 3) & ~uint64_t{3};
    } else {
      return fail("unknown token");
    }
  }
  if (!stack.empty() || !root_done) return fail("unbalanced nodes");
  return true;
}

}  // namespace c2w::emulators
