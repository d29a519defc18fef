// ARG substitution in words: $NAME, ${NAME} and ${NAME:-default}.
//
// Promise: expand() replaces every reference in the word's non-literal bytes (see lexer.h)
// with the ARG's value. A name that no earlier ARG declares, or an ARG that has neither a
// default nor a --build-arg value, is a RecipeError at the `$` naming the ARG, with the hint
// `--build-arg NAME=...`. ${NAME:-default} uses default (itself expanded) when NAME is unset
// or empty, so it never fails for a missing value. A `$` not followed by a name or `{` is
// kept as is, as in Dockerfiles.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "frontend/lexer.h"

namespace c2w::frontend {

struct ArgValue {
  std::optional<std::string> value;  // nullopt: declared without default and not given
  SourcePos declared;
};

using ArgScope = std::map<std::string, ArgValue>;

std::string expand(const Word& word, const ArgScope& scope, const std::string& file);

}  // namespace c2w::frontend
