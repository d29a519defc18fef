// Value checks shared by the builder: image references and memory sizes.
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "frontend/build.h"

namespace c2w::frontend {
namespace {

bool all_of(std::string_view s, bool (*ok)(char)) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ok);
}

bool path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == '/';
}
bool tag_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}
bool hex_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
bool domain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':';
}

}  // namespace

std::string normalize_image_ref(std::string_view ref) {
  for (std::string_view transport : {"oci-layout:", "oci-archive:", "docker-archive:"}) {
    if (ref.starts_with(transport)) {
      if (ref.size() == transport.size()) {
        throw std::invalid_argument("\"" + std::string(ref) + "\" names no path");
      }
      return std::string(ref);
    }
  }
  if (ref.starts_with("docker://")) ref.remove_prefix(9);
  if (ref.empty()) throw std::invalid_argument("the image reference is empty");
  std::string digest;
  if (size_t at = ref.find('@'); at != std::string_view::npos) {
    digest = std::string(ref.substr(at + 1));
    ref = ref.substr(0, at);
    size_t colon = digest.find(':');
    if (colon == std::string::npos || colon == 0 ||
        !all_of(std::string_view(digest).substr(colon + 1), hex_char)) {
      throw std::invalid_argument("bad digest \"" + digest + "\" (want e.g. sha256:<hex>)");
    }
  }
  std::string tag;
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = std::string(ref.substr(colon + 1));
    ref = ref.substr(0, colon);
    if (!all_of(tag, tag_char) || tag.size() > 128) {
      throw std::invalid_argument("bad tag \"" + tag + "\"");
    }
  }
  std::string domain = "docker.io";
  std::string_view path = ref;
  if (size_t first = ref.find('/'); first != std::string_view::npos) {
    std::string_view head = ref.substr(0, first);
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost") {
      if (!all_of(head, domain_char)) {
        throw std::invalid_argument("bad registry \"" + std::string(head) + "\"");
      }
      domain = head == "index.docker.io" ? "docker.io" : std::string(head);
      path = ref.substr(first + 1);
    }
  }
  if (!all_of(path, path_char) || path.front() == '/' || path.back() == '/' ||
      path.find("//") != std::string_view::npos) {
    throw std::invalid_argument("bad repository name \"" + std::string(path) +
                                "\" (lowercase letters, digits, '.', '_', '-' and '/')");
  }
  std::string out = domain + "/";
  if (domain == "docker.io" && path.find('/') == std::string_view::npos) out += "library/";
  out += path;
  if (!tag.empty()) out += ":" + tag;
  if (tag.empty() && digest.empty()) out += ":latest";
  if (!digest.empty()) out += "@" + digest;
  return out;
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
