// Value checks shared by the builder: image references and memory sizes.
#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "base/error.h"
#include "base/size.h"
#include "emulators/common/guest_ram.h"
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
  const std::optional<uint64_t> bytes = parse_size(text);
  if (!bytes || *bytes % emulators::kGuestPageSize != 0) return std::nullopt;
  return bytes;
}

}  // namespace c2w::frontend
