#include "runtime/embedded_runtime.h"

#include "base/embed.h"
#include "oci/sha256.h"

C2W_EMBED(c2w_embedded_runtime, C2W_RUNTIME_PATH);

namespace c2w::runtime {

std::string_view embedded_runtime() {
  return C2W_EMBEDDED(c2w_embedded_runtime);
}

const std::string& embedded_runtime_digest() {
  static const std::string digest = oci::Sha256::of(embedded_runtime());
  return digest;
}

}  // namespace c2w::runtime
