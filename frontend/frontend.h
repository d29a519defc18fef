// The frontend's public surface in one include: parse a recipe, build its graph, print it.
//   c2w::frontend::build_recipe(text, file, loader, options) -> {Definition, warnings}
//   c2w::frontend::default_recipe()                           -> the embedded recipe text
//   c2w::frontend::describe(definition)                       -> debugging dump
// Errors are c2w::frontend::RecipeError (file:line:column, message, hint).
#pragma once

#include "context/loader.h"
#include "frontend/build.h"
#include "frontend/default_recipe.h"
#include "frontend/describe.h"
#include "frontend/error.h"
#include "frontend/recipe.h"
