#include "frontend/error.h"

#include <algorithm>
#include <cctype>

namespace c2w::frontend {
namespace {

std::string format(const std::string& file, SourcePos pos, const std::string& message,
                   const std::string& hint) {
  std::string out = file;
  if (pos.line != 0) {
    out += ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
  }
  out += ": error: " + message;
  if (!hint.empty()) out += "\n  hint: " + hint;
  return out;
}

// Optimal string alignment distance: like Levenshtein, plus swapping two neighbours counts as
// one edit, the commonest typo in keywords (FORM for FROM).
size_t edit_distance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    return std::toupper(static_cast<unsigned char>(x)) ==
           std::toupper(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

RecipeError::RecipeError(std::string file, SourcePos pos, std::string message, std::string hint)
    : std::runtime_error(format(file, pos, message, hint)),
      file_(std::move(file)),
      pos_(pos),
      message_(std::move(message)),
      hint_(std::move(hint)) {}

std::string nearest_name(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  // A third of the word (at least one edit, at most three) separates typos from other words.
  size_t best_distance = std::clamp<size_t>(word.size() / 3, 1, 3) + 1;
  for (const std::string& candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += separator;
    out += items[i];
  }
  return out;
}

}  // namespace c2w::frontend
