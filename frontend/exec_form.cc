#include "frontend/exec_form.h"

namespace c2w::frontend {
namespace {

constexpr const char* kHint =
    "write the exec form as a JSON array of double-quoted strings, e.g. [\"/bin/sh\", \"-c\", "
    "\"echo hi\"], or drop the brackets for the shell form";

class ExecParser {
 public:
  ExecParser(const Line& line, size_t at, const std::string& file)
      : t_(line.text), line_(line), at_(at), file_(file) {}

  std::vector<std::string> run() {
    std::vector<std::string> out;
    expect('[');
    skip_blanks();
    if (peek() == ']') {
      ++at_;
    } else {
      while (true) {
        skip_blanks();
        out.push_back(string());
        skip_blanks();
        if (peek() == ',') {
          ++at_;
          continue;
        }
        expect(']');
        break;
      }
    }
    skip_blanks();
    if (at_ < t_.size()) fail("unexpected text after the exec-form array");
    return out;
  }

 private:
  char peek() const { return at_ < t_.size() ? t_[at_] : '\0'; }
  void skip_blanks() {
    while (at_ < t_.size() && is_blank(t_[at_])) ++at_;
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw RecipeError(file_, line_.pos[std::min(at_, t_.size())], message, kHint);
  }

  void expect(char c) {
    if (peek() != c) {
      fail(at_ >= t_.size() ? std::string("exec-form array ends early, expected '") + c + "'"
                            : std::string("expected '") + c + "' in exec-form array");
    }
    ++at_;
  }

  std::string string() {
    if (peek() != '"') fail("expected a double-quoted string in exec-form array");
    ++at_;
    std::string out;
    while (true) {
      if (at_ >= t_.size()) fail("unterminated string in exec-form array");
      char c = t_[at_];
      if (c == '"') {
        ++at_;
        return out;
      }
      if (c != '\\') {
        out.push_back(c);
        ++at_;
        continue;
      }
      ++at_;
      switch (peek()) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u':
          unicode(out);
          continue;
        default:
          fail("bad escape in exec-form string");
      }
      ++at_;
    }
  }

  // \uXXXX (at_ on the 'u'), written as UTF-8; surrogate pairs are combined.
  void unicode(std::string& out) {
    uint32_t code = hex4();
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (peek() != '\\' || at_ + 1 >= t_.size() || t_[at_ + 1] != 'u') {
        fail("lone surrogate in exec-form string");
      }
      ++at_;
      uint32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("bad surrogate pair in exec-form string");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    } else if (code >= 0xDC00 && code <= 0xDFFF) {
      fail("lone surrogate in exec-form string");
    }
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  // Reads "uXXXX" starting at the 'u'.
  uint32_t hex4() {
    ++at_;
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i, ++at_) {
      char c = peek();
      uint32_t digit;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        fail("bad \\u escape in exec-form string");
      }
      value = value * 16 + digit;
    }
    return value;
  }

  const std::string& t_;
  const Line& line_;
  size_t at_;
  const std::string& file_;
};

}  // namespace

std::optional<std::vector<std::string>> parse_exec_form(const Line& line, size_t offset,
                                                        const std::string& file) {
  size_t at = offset;
  while (at < line.text.size() && is_blank(line.text[at])) ++at;
  if (at >= line.text.size() || line.text[at] != '[') return std::nullopt;
  return ExecParser(line, at, file).run();
}

}  // namespace c2w::frontend
