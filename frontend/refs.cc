// Value checks shared by the builder: image references and memory sizes.
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "base/error.h"
#include "frontend/build.h"
#include "oci/reference.h"

namespace c2w::frontend {

std::string normalize_image_ref(std::string_view ref) {
  for (std::string_view transport : {"oci-layout:", "docker-archive:"}) {
    if (ref.starts_with(transport)) {
      if (ref.size() == transport.size())
        throw std::invalid_argument("\"" + std::string(ref) + "\" names no path");
      return std::string(ref);  // paths stay as written: they are relative to the client
    }
  }
  try {
    oci::Reference r = oci::parse_reference(std::string(ref));
    std::string out = r.registry + "/" + r.repository;
    if (!r.digest.empty())
      return out + "@" + r.digest;  // a digest pins the content: the tag adds nothing
    return out + ":" + r.tag;
  } catch (const oci::ReferenceError& e) {
    throw std::invalid_argument(e.reason());
  }
}

std::optional<uint64_t> parse_memory_size(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  uint64_t number = std::stoull(std::string(text.substr(0, digits)));
  std::string unit(text.substr(digits));
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.ends_with("IB")) {
    unit.erase(unit.size() - 2);
    if (unit.empty()) return std::nullopt;  // "iB" alone
  } else if (unit.size() == 2 && unit.back() == 'B') {
    unit.pop_back();
  }
  uint64_t shift;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "K") {
    shift = 10;
  } else if (unit == "M") {
    shift = 20;
  } else if (unit == "G") {
    shift = 30;
  } else {
    return std::nullopt;
  }
  if (number > (UINT64_MAX >> shift)) return std::nullopt;
  uint64_t bytes = number << shift;
  if (bytes % 4096 != 0) return std::nullopt;
  return bytes;
}

}  // namespace c2w::frontend
