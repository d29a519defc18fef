// Helpers shared by the frontend tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "frontend/frontend.h"

namespace c2w::frontend::testing {

// The RecipeError that building `text` throws; a test failure (and an empty error) if none.
inline RecipeError build_error(std::string_view text, const BuildOptions& options = {},
                               context::MemoryLoader loader = {}) {
  try {
    build_recipe(text, "recipe", loader, options);
  } catch (const RecipeError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a RecipeError for:\n" << text;
  return RecipeError("", {}, "");
}

inline RecipeError parse_error(std::string_view text) {
  try {
    parse_recipe(text, "recipe");
  } catch (const RecipeError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a RecipeError for:\n" << text;
  return RecipeError("", {}, "");
}

}  // namespace c2w::frontend::testing
