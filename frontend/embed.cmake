# cmake -P embed.cmake -DIN=<text file> -DOUT=<.cc> : writes default_recipe() returning the
# file's text as a raw string literal.
file(READ ${IN} text)
set(delim "c2w_recipe")
string(FIND "${text}" ")${delim}" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )${delim}")
endif()
file(WRITE ${OUT}.tmp
"// Generated from ${IN} by frontend/embed.cmake; do not edit.
#include \"frontend/default_recipe.h\"

namespace c2w::frontend {

std::string_view default_recipe() {
  static constexpr std::string_view text = R\"${delim}(${text})${delim}\";
  return text;
}

}  // namespace c2w::frontend
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
