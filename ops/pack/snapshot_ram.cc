#include "ops/pack/snapshot_ram.h"

#include <cstring>

namespace c2w::pack {
namespace {

constexpr char kMagic[8] = {'c', '2', 'w', 's', 'n', 'a', 'p', '\0'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kSectionHeader = 12;               // tag + u64 length
constexpr uint64_t kRamHeader = 4 + 8 + 8;            // page size, pages in RAM, pages stored
constexpr uint64_t kStoredPage = 4 + kGuestPageSize;  // index + bytes

uint64_t le(const uint8_t* p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

void put_le(std::vector<uint8_t>& out, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

// Reads the RAM section's payload into `out->pages` (checking it against `ram_size`).
bool read_ram(std::span<const uint8_t> ram, uint64_t ram_size, SplitSnapshot* out,
              std::string* error) {
  if (ram.size() < kRamHeader) return *error = "RAM section shorter than its header", false;
  const uint64_t page_size = le(&ram[0], 4), pages = le(&ram[4], 8), stored = le(&ram[12], 8);
  if (page_size != kGuestPageSize)
    return *error = "RAM page size " + std::to_string(page_size) + " (pack reads 4096)", false;
  if (ram_size % kGuestPageSize || pages != ram_size / kGuestPageSize)
    return *error = "RAM section has " + std::to_string(pages) + " pages but CONF says " +
                    std::to_string(ram_size) + " bytes of RAM",
           false;
  const uint64_t body = ram.size() - kRamHeader;
  if (stored > pages || body % kStoredPage || body / kStoredPage != stored)
    return *error = "RAM section claims " + std::to_string(stored) + " stored pages but holds " +
                    std::to_string(body) + " bytes of pages",
           false;
  out->pages.clear();
  out->pages.reserve(stored);
  for (uint64_t i = 0; i < stored; ++i) {
    const uint8_t* p = ram.data() + kRamHeader + i * kStoredPage;
    const uint32_t index = static_cast<uint32_t>(le(p, 4));
    if (index >= pages || (i && index <= out->pages.back().index))
      return *error = "RAM page index " + std::to_string(index) + " (stored page " +
                      std::to_string(i) + ") is out of range or out of order",
             false;
    out->pages.push_back({index, {p + 4, kGuestPageSize}});
  }
  return true;
}

}  // namespace

bool split_snapshot(std::span<const uint8_t> snap, SplitSnapshot* out, std::string* error) {
  std::string why;
  auto bad = [&](const std::string& what) {
    *error = "corrupt snapshot: " + what;
    return false;
  };
  if (snap.size() < 16 || std::memcmp(snap.data(), kMagic, 8) != 0)
    return *error = "not a c2w snapshot (no c2wsnap magic)", false;
  const uint64_t version = le(&snap[8], 4);
  if (version != kVersion)
    return *error = "snapshot version " + std::to_string(version) + " (pack reads version 1)",
           false;

  bool have_conf = false, have_ram = false;
  uint64_t ram_at = 0, ram_end = 0;  // the RAM section, header included
  uint64_t pos = 16;
  for (;;) {
    if (snap.size() - pos < kSectionHeader)
      return bad(pos == snap.size() ? "no END section"
                                    : "truncated section header at byte " + std::to_string(pos));
    const std::string tag(reinterpret_cast<const char*>(&snap[pos]), 4);
    const uint64_t len = le(&snap[pos + 4], 8);
    const uint64_t payload = pos + kSectionHeader;
    if (len > snap.size() - payload)
      return bad("section '" + tag + "' at byte " + std::to_string(pos) + " runs past the end");
    if (!have_conf) {
      if (tag != "CONF" || len < 8) return bad("the first section is not CONF");
      out->ram_size = le(&snap[payload], 8);
      have_conf = true;
    } else if (tag == "RAM ") {
      if (have_ram) return bad("two RAM sections");
      if (!read_ram(snap.subspan(payload, len), out->ram_size, out, &why)) return bad(why);
      have_ram = true;
      ram_at = pos;
      ram_end = payload + len;
    } else if (tag == "END ") {
      if (!have_ram) return bad("no RAM section");
      if (pos != ram_end) return bad("RAM is not the last section before END");
      if (len != 0 || payload != snap.size()) return bad("bytes after the END section");
      break;
    }
    pos = payload + len;
  }

  out->state.assign(snap.begin(), snap.begin() + ram_at);
  out->state.insert(out->state.end(), {'R', 'A', 'M', ' '});
  put_le(out->state, kRamHeader, 8);
  put_le(out->state, kGuestPageSize, 4);
  put_le(out->state, out->ram_size / kGuestPageSize, 8);
  put_le(out->state, 0, 8);
  out->state.insert(out->state.end(), snap.begin() + ram_end, snap.end());
  return true;
}

}  // namespace c2w::pack
