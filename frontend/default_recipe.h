// The recipe c2w uses when no --recipe is given, compiled into the binary from
// frontend/default.recipe (embedded with base/embed.h at build time, so the file in
// the tree and the text in the binary cannot drift apart).
#pragma once

#include <string_view>

namespace c2w::frontend {

// The name the default recipe carries in errors and op locations.
inline constexpr std::string_view kDefaultRecipeName = "default.recipe";

std::string_view default_recipe();

}  // namespace c2w::frontend
