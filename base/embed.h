// Files compiled into the binary with the assembler's .incbin: no generated source for
// megabytes of bytes, and the binary needs no data files beside it. The path is a string
// literal (usually a compile definition); the unit's OBJECT_DEPENDS must name the file so
// that a changed file recompiles the unit.
//   C2W_EMBED(symbol, "path");   at global scope: the bytes, between symbol_begin and _end
//   C2W_EMBEDDED(symbol)         those bytes as a std::string_view
#pragma once

#include <cstddef>
#include <string_view>

#define C2W_EMBED(symbol, path)                                                              \
  __asm__(".section .rodata." #symbol ",\"a\"\n"                                             \
          ".balign 16\n"                                                                     \
          ".globl " #symbol "_begin\n" #symbol "_begin:\n"                                   \
          ".incbin \"" path "\"\n"                                                           \
          ".globl " #symbol "_end\n" #symbol "_end:\n"                                       \
          ".previous\n");                                                                    \
  extern "C" const char symbol##_begin[];                                                    \
  extern "C" const char symbol##_end[]

#define C2W_EMBEDDED(symbol) \
  std::string_view(symbol##_begin, static_cast<size_t>(symbol##_end - symbol##_begin))
