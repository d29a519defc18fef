// Sizes written by people: "256M", "10GB", "1.5GiB", "4096". One reading everywhere (c2w's
// --keep-storage, the recipe's MEMORY, the runners' --memory): units are powers of 1024 as in
// Docker's (--memory 512m, --keep-storage 10GB), case-insensitive, with or without "B"/"iB":
// K, KB, KiB = 2^10; M, MB, MiB = 2^20; G = 2^30; T = 2^40; no unit or "B" = bytes. A
// fraction is allowed ("1.5G") and rounds down to a byte. Header-only and exception-free: the
// wasm32 and guest parts use it too.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace c2w {

// The size in bytes; nullopt for anything else, including an overflow of 64 bits.
inline std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t whole = 0, frac_num = 0, frac_den = 1;
  size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    if (whole > (UINT64_MAX - 9) / 10) return std::nullopt;
    whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  const size_t int_digits = i;
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (frac_den >= 1'000'000'000'000ull) continue;  // more digits than a byte can show
      frac_num = frac_num * 10 + static_cast<uint64_t>(text[i] - '0');
      frac_den *= 10;
    }
    if (frac_den == 1) return std::nullopt;  // "1." or "."
  }
  if (int_digits == 0 && frac_den == 1) return std::nullopt;
  std::string_view unit = text.substr(i);
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  unsigned shift = 0;
  if (!unit.empty()) {
    switch (lower(unit[0])) {
      case 'b':
        shift = 0;
        break;
      case 'k':
        shift = 10;
        break;
      case 'm':
        shift = 20;
        break;
      case 'g':
        shift = 30;
        break;
      case 't':
        shift = 40;
        break;
      default:
        return std::nullopt;
    }
    std::string_view rest = unit.substr(1);
    const bool ok = rest.empty() || (shift && rest.size() == 1 && lower(rest[0]) == 'b') ||
                    (shift && rest.size() == 2 && lower(rest[0]) == 'i' && lower(rest[1]) == 'b');
    if (!ok) return std::nullopt;
  }
  if (whole > (UINT64_MAX >> shift)) return std::nullopt;
  const uint64_t bytes = whole << shift;
  // frac_num / frac_den < 1, frac_den <= 10^12 and shift <= 40: the product fits after a split.
  const uint64_t unit_bytes = uint64_t{1} << shift;
  const uint64_t frac_bytes =
      (unit_bytes / frac_den) * frac_num + (unit_bytes % frac_den) * frac_num / frac_den;
  if (bytes > UINT64_MAX - frac_bytes) return std::nullopt;
  return bytes + frac_bytes;
}

}  // namespace c2w
