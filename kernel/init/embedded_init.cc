#include "kernel/init/embedded_init.h"

// The assembler's .incbin pulls the file in at compile time: no generated source for half a
// megabyte of bytes. CMake recompiles this file when the binary changes (OBJECT_DEPENDS).
__asm__(
    ".section .rodata.c2w_init,\"a\"\n"
    ".balign 16\n"
    ".globl c2w_embedded_init_begin\n"
    "c2w_embedded_init_begin:\n"
    ".incbin \"" C2W_INIT_PATH
    "\"\n"
    ".globl c2w_embedded_init_end\n"
    "c2w_embedded_init_end:\n"
    ".previous\n");

extern "C" const char c2w_embedded_init_begin[];
extern "C" const char c2w_embedded_init_end[];

namespace c2w::guest {

std::string_view embedded_init() {
  return std::string_view(c2w_embedded_init_begin,
                          static_cast<size_t>(c2w_embedded_init_end - c2w_embedded_init_begin));
}

}  // namespace c2w::guest
