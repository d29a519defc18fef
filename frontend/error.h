// The one error type the frontend throws for anything wrong with a recipe or its inputs.
//
// Promise: every RecipeError names where (file, 1-based line and column; 0:0 when the problem
// is not on a line, e.g. an unknown --target), what was wrong, and usually what to do (hint).
// what() reads like a compiler diagnostic:
//   recipe:4:6: error: unknown instruction "FORM"
//     hint: did you mean FROM?
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace c2w::frontend {

struct SourcePos {
  uint32_t line = 0;
  uint32_t column = 0;
  friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

class RecipeError : public std::runtime_error {
 public:
  RecipeError(std::string file, SourcePos pos, std::string message, std::string hint = {});

  const std::string& file() const { return file_; }
  uint32_t line() const { return pos_.line; }
  uint32_t column() const { return pos_.column; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string file_;
  SourcePos pos_;
  std::string message_;
  std::string hint_;
};

// The candidate closest to `word` by edit distance (case-insensitive), or "" when none is
// close enough to be a plausible typo. Used for "did you mean" hints.
std::string nearest_name(std::string_view word, const std::vector<std::string>& candidates);

// "a, b, c" for hint texts.
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace c2w::frontend
