#include "frontend/default_recipe.h"

#include "base/embed.h"

C2W_EMBED(c2w_default_recipe, C2W_DEFAULT_RECIPE_PATH);

namespace c2w::frontend {

std::string_view default_recipe() {
  return C2W_EMBEDDED(c2w_default_recipe);
}

}  // namespace c2w::frontend
