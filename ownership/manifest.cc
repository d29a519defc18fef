#include "ownership/manifest.h"

#include <array>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "oci/layout.h"

namespace c2w::ownership {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kFormat = "c2w-rootfs-metadata";
constexpr int kVersion = 1;

constexpr std::array<std::pair<EntryType, std::string_view>, 6> kTypeNames{{
    {EntryType::kFile, "file"},
    {EntryType::kDir, "dir"},
    {EntryType::kSymlink, "symlink"},
    {EntryType::kFifo, "fifo"},
    {EntryType::kCharDevice, "char"},
    {EntryType::kBlockDevice, "block"},
}};

EntryType parse_type(const std::string& name) {
  for (auto& [type, n] : kTypeNames)
    if (n == name) return type;
  throw std::runtime_error("unknown entry type '" + name + "'");
}

json to_json(const Entry& e) {
  json j{{"path", e.path}, {"type", type_name(e.type)}, {"mode", e.mode}, {"uid", e.uid},
         {"gid", e.gid},   {"mtime", e.mtime}};
  if (e.type == EntryType::kFile) j["size"] = e.size;
  if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice) {
    j["major"] = e.major;
    j["minor"] = e.minor;
  }
  if (!e.link.empty()) j["link"] = e.link;
  if (!e.hardlink.empty()) j["hardlink"] = e.hardlink;
  if (!e.xattrs.empty()) {
    json x = json::object();
    for (auto& [name, value] : e.xattrs) x[name] = base64_encode(value);
    j["xattrs"] = std::move(x);
  }
  return j;
}

Entry from_json(const json& j) {
  Entry e;
  e.path = j.at("path").get<std::string>();
  e.type = parse_type(j.at("type").get<std::string>());
  e.mode = j.at("mode").get<uint32_t>();
  e.uid = j.at("uid").get<uint32_t>();
  e.gid = j.at("gid").get<uint32_t>();
  e.mtime = j.at("mtime").get<int64_t>();
  e.size = j.value("size", uint64_t{0});
  e.major = j.value("major", uint32_t{0});
  e.minor = j.value("minor", uint32_t{0});
  e.link = j.value("link", "");
  e.hardlink = j.value("hardlink", "");
  if (j.contains("xattrs"))
    for (auto& [name, value] : j["xattrs"].items())
      e.xattrs[name] = base64_decode(value.get<std::string>());
  return e;
}

}  // namespace

std::string_view type_name(EntryType type) {
  for (auto& [t, name] : kTypeNames)
    if (t == type) return name;
  return "?";
}

void write_metadata(const fs::path& file, const std::vector<Entry>& entries) {
  std::string out =
      json{{"format", kFormat}, {"version", kVersion}, {"entries", entries.size()}}.dump();
  out += '\n';
  for (const Entry& e : entries) {
    // Strict UTF-8: a name that is not valid UTF-8 throws here instead of being altered.
    out += to_json(e).dump();
    out += '\n';
  }
  oci::write_file_atomic(file, out);
}

std::vector<Entry> read_metadata(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read rootfs metadata " + file.string());
  std::string line;
  size_t lineno = 0;
  auto fail = [&](const std::string& why) {
    throw std::runtime_error(file.string() + ":" + std::to_string(lineno) + ": " + why);
  };
  std::vector<Entry> entries;
  size_t expected = 0;
  while (std::getline(in, line)) {
    ++lineno;
    try {
      json j = json::parse(line);
      if (lineno == 1) {
        if (j.value("format", "") != kFormat || j.value("version", 0) != kVersion)
          fail("not a c2w rootfs metadata file of version " + std::to_string(kVersion));
        expected = j.at("entries").get<size_t>();
        continue;
      }
      entries.push_back(from_json(j));
    } catch (const json::exception& err) {
      fail(err.what());
    }
  }
  if (lineno == 0) fail("empty file");
  if (entries.size() != expected)
    fail("has " + std::to_string(entries.size()) + " entries, header says " +
         std::to_string(expected) + " (truncated?)");
  return entries;
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 |
                 uint8_t(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(v >> shift) & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw std::runtime_error("base64 length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      // Padding is only allowed in the last two places of the last group.
      if (c == '=' && i + 4 == text.size() && k >= 2 && (k == 3 || text[i + 3] == '=')) {
        ++pad;
        v <<= 6;
        continue;
      }
      size_t pos = kAlphabet.find(c);
      if (pos == std::string_view::npos || pad > 0)
        throw std::runtime_error("bad base64 character in '" + std::string(text) + "'");
      v = v << 6 | uint32_t(pos);
    }
    out += char(v >> 16 & 0xff);
    if (pad < 2) out += char(v >> 8 & 0xff);
    if (pad < 1) out += char(v & 0xff);
  }
  return out;
}

}  // namespace c2w::ownership
