// The exec form of ENTRYPOINT and CMD: a JSON array of strings, ["prog", "arg", ...].
//
// Promise: parse_exec_form() returns std::nullopt when the text after `offset` does not start
// with `[` (the caller then uses the shell form); otherwise it returns the strings or throws a
// RecipeError at the exact byte that breaks the JSON string-array grammar. Unlike Docker, a
// malformed array is an error rather than silently becoming a shell command.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "frontend/lexer.h"

namespace c2w::frontend {

std::optional<std::vector<std::string>> parse_exec_form(const Line& line, size_t offset,
                                                        const std::string& file);

}  // namespace c2w::frontend
