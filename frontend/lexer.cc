#include "frontend/lexer.h"

namespace c2w::frontend {

Word Word::tail(size_t from) const {
  Word out;
  out.text = text.substr(from);
  out.pos.assign(pos.begin() + static_cast<std::ptrdiff_t>(from), pos.end());
  out.literal.assign(literal.begin() + static_cast<std::ptrdiff_t>(from), literal.end());
  out.start = from < pos.size() ? pos[from] : (pos.empty() ? start : pos.back());
  out.quoted = quoted;
  return out;
}

std::vector<Line> split_lines(std::string_view text, const std::string& file) {
  std::vector<Line> lines;
  Line pending;             // the logical line being joined
  bool continuing = false;  // the previous physical line ended in `\`
  SourcePos continuation_at;
  uint32_t number = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t newline = text.find('\n', at);
    std::string_view physical =
        text.substr(at, newline == std::string_view::npos ? std::string_view::npos : newline - at);
    at = newline == std::string_view::npos ? text.size() : newline + 1;
    ++number;

    size_t first = 0;
    while (first < physical.size() && is_blank(physical[first])) ++first;
    if (first == physical.size() || physical[first] == '#') continue;

    size_t last = physical.size();
    while (last > first && is_blank(physical[last - 1])) --last;
    bool continues = physical[last - 1] == '\\';
    size_t content_end = continues ? last - 1 : physical.size();
    // Keep a continued line's own leading blanks: they separate words ("a \" + "  b").
    size_t content_begin = continuing ? 0 : first;
    for (size_t i = content_begin; i < content_end; ++i) {
      if (physical[i] == '\r' && i + 1 == physical.size()) break;  // CRLF files
      pending.text.push_back(physical[i]);
      pending.pos.push_back({number, static_cast<uint32_t>(i + 1)});
    }
    if (continues) {
      continuing = true;
      continuation_at = {number, static_cast<uint32_t>(last)};
      continue;
    }
    pending.pos.push_back({number, static_cast<uint32_t>(content_end + 1)});
    lines.push_back(std::move(pending));
    pending = Line{};
    continuing = false;
  }
  if (continuing) {
    throw RecipeError(file, continuation_at, "line continuation at the end of the recipe",
                      "remove the trailing \\ or add the rest of the instruction");
  }
  return lines;
}

std::vector<Word> split_words(const Line& line, size_t offset, const std::string& file) {
  std::vector<Word> words;
  const std::string& t = line.text;
  size_t i = offset;
  while (true) {
    while (i < t.size() && is_blank(t[i])) ++i;
    if (i >= t.size()) break;
    Word word;
    word.start = line.pos[i];
    auto put = [&](size_t index, bool literal) {
      word.text.push_back(t[index]);
      word.pos.push_back(line.pos[index]);
      word.literal.push_back(literal);
    };
    while (i < t.size() && !is_blank(t[i])) {
      char c = t[i];
      if (c == '\'') {
        word.quoted = true;
        size_t open = i++;
        while (i < t.size() && t[i] != '\'') put(i++, true);
        if (i >= t.size()) {
          throw RecipeError(file, line.pos[open], "unterminated single quote",
                            "close the quoted text with '");
        }
        ++i;
      } else if (c == '"') {
        word.quoted = true;
        size_t open = i++;
        while (i < t.size() && t[i] != '"') {
          if (t[i] == '\\' && i + 1 < t.size() &&
              (t[i + 1] == '"' || t[i + 1] == '\\' || t[i + 1] == '$')) {
            put(i + 1, true);
            i += 2;
          } else {
            put(i++, false);
          }
        }
        if (i >= t.size()) {
          throw RecipeError(file, line.pos[open], "unterminated double quote",
                            "close the quoted text with \"");
        }
        ++i;
      } else if (c == '\\' && i + 1 < t.size()) {
        word.quoted = true;
        put(i + 1, true);
        i += 2;
      } else {
        put(i++, false);
      }
    }
    words.push_back(std::move(word));
  }
  return words;
}

size_t bare_token_length(const Line& line, size_t offset) {
  size_t end = offset;
  while (end < line.text.size() && !is_blank(line.text[end])) ++end;
  return end - offset;
}

}  // namespace c2w::frontend
