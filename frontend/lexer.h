// Recipe text -> logical lines -> words, keeping the recipe position of every byte.
//
// Promise:
// - split_lines() joins physical lines ending in `\` (trailing blanks allowed after it),
//   drops lines whose first non-blank byte is `#` (also inside a continued instruction, as
//   Dockerfiles do) and blank lines; each remaining logical line keeps, for every byte, the
//   line:column it came from, so errors point into the file and not into the joined text.
// - split_words() splits a logical line at blanks into words. Double quotes group and allow
//   the escapes \" \\ \$; single quotes group literally; a backslash outside quotes makes the
//   next byte literal. Quote marks are removed. Bytes that came from single quotes or an
//   escape are marked literal so ARG substitution leaves them alone ("\$HOME" stays "$HOME").
// Errors (unterminated quote, continuation at end of file) are RecipeErrors.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "frontend/error.h"

namespace c2w::frontend {

struct Line {
  std::string text;            // the joined logical line, without leading blanks
  std::vector<SourcePos> pos;  // pos[i] is where text[i] came from; one extra entry: the end
  SourcePos start() const { return pos.front(); }
  SourcePos end() const { return pos.back(); }  // just past the last byte
};

struct Word {
  std::string text;            // after quote removal and escapes
  std::vector<SourcePos> pos;  // one per byte of text
  std::vector<bool> literal;   // one per byte: protected from $ substitution
  SourcePos start;             // where the word begins (its opening quote, if any)
  bool quoted = false;         // any quoting or escaping: never taken as a keyword

  // The bytes from `from` on, with their positions (used to split ENV's KEY=VALUE).
  Word tail(size_t from) const;
};

std::vector<Line> split_lines(std::string_view text, const std::string& file);

// Words of `line` from byte `offset` on.
std::vector<Word> split_words(const Line& line, size_t offset, const std::string& file);

// Length of the first blank-delimited run of bytes at `offset` (the instruction name).
size_t bare_token_length(const Line& line, size_t offset);

inline bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

}  // namespace c2w::frontend
