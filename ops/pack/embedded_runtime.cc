#include "ops/pack/embedded_runtime.h"

#include "oci/sha256.h"

// As kernel/init/embedded_init.cc: .incbin at compile time, rebuilt when the module changes.
__asm__(
    ".section .rodata.c2w_runtime,\"a\"\n"
    ".balign 16\n"
    ".globl c2w_embedded_runtime_begin\n"
    "c2w_embedded_runtime_begin:\n"
    ".incbin \"" C2W_RUNTIME_PATH
    "\"\n"
    ".globl c2w_embedded_runtime_end\n"
    "c2w_embedded_runtime_end:\n"
    ".previous\n");

extern "C" const char c2w_embedded_runtime_begin[];
extern "C" const char c2w_embedded_runtime_end[];

namespace c2w::pack {

std::string_view embedded_runtime() {
  return std::string_view(c2w_embedded_runtime_begin, static_cast<size_t>(c2w_embedded_runtime_end -
                                                                           c2w_embedded_runtime_begin));
}

const std::string& embedded_runtime_digest() {
  static const std::string digest = oci::Sha256::of(embedded_runtime());
  return digest;
}

}  // namespace c2w::pack
