#include "frontend/expand.h"

#include <cctype>

namespace c2w::frontend {
namespace {

bool name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

class Expander {
 public:
  Expander(const Word& word, const ArgScope& scope, const std::string& file)
      : w_(word), scope_(scope), file_(file) {}

  // Expands bytes [begin, end) of the word.
  std::string range(size_t begin, size_t end) const {
    std::string out;
    size_t i = begin;
    while (i < end) {
      if (w_.text[i] != '$' || w_.literal[i] || i + 1 >= end || w_.literal[i + 1]) {
        out.push_back(w_.text[i++]);
        continue;
      }
      char next = w_.text[i + 1];
      if (name_start(next)) {
        size_t stop = i + 1;
        while (stop < end && name_char(w_.text[stop]) && !w_.literal[stop]) ++stop;
        out += required(w_.text.substr(i + 1, stop - i - 1), i);
        i = stop;
      } else if (next == '{') {
        i = braced(i, end, out);
      } else {
        out.push_back(w_.text[i++]);
      }
    }
    return out;
  }

 private:
  [[noreturn]] void fail(size_t at, std::string message, std::string hint) const {
    throw RecipeError(file_, w_.pos[at], std::move(message), std::move(hint));
  }

  // ${...} starting at `dollar`; returns the index after the closing brace.
  size_t braced(size_t dollar, size_t end, std::string& out) const {
    size_t close = dollar + 2;
    int depth = 1;  // a default may itself contain ${...}
    for (; close < end; ++close) {
      if (w_.literal[close]) continue;
      if (w_.text[close] == '{' && w_.text[close - 1] == '$') ++depth;
      if (w_.text[close] == '}' && --depth == 0) break;
    }
    if (close >= end) {
      fail(dollar, "unterminated ${ in \"" + w_.text + "\"", "close the reference with }");
    }
    size_t name_end = dollar + 2;
    while (name_end < close && name_char(w_.text[name_end])) ++name_end;
    std::string name = w_.text.substr(dollar + 2, name_end - dollar - 2);
    if (name.empty() || !name_start(name[0])) {
      fail(dollar, "bad variable reference in \"" + w_.text + "\"",
           "write ${NAME} or ${NAME:-default}; write \\$ for a literal dollar sign");
    }
    if (name_end == close) {
      out += required(name, dollar);
    } else if (w_.text.compare(name_end, 2, ":-") == 0) {
      const ArgValue& arg = declared(name, dollar);
      out += arg.value && !arg.value->empty() ? *arg.value : range(name_end + 2, close);
    } else {
      fail(name_end, "unsupported modifier in ${" + name + "...}",
           "only ${NAME} and ${NAME:-default} are supported");
    }
    return close + 1;
  }

  const ArgValue& declared(const std::string& name, size_t at) const {
    auto it = scope_.find(name);
    if (it == scope_.end()) {
      fail(at, "undefined variable \"" + name + "\"",
           "declare it above with ARG " + name + " and pass --build-arg " + name +
               "=...; write \\$ for a literal dollar sign");
    }
    return it->second;
  }

  const std::string& required(const std::string& name, size_t at) const {
    const ArgValue& arg = declared(name, at);
    if (!arg.value) {
      fail(at, "ARG " + name + " has no value",
           "pass --build-arg " + name + "=... or give it a default: ARG " + name + "=<value>");
    }
    return *arg.value;
  }

  const Word& w_;
  const ArgScope& scope_;
  const std::string& file_;
};

}  // namespace

std::string expand(const Word& word, const ArgScope& scope, const std::string& file) {
  return Expander(word, scope, file).range(0, word.text.size());
}

}  // namespace c2w::frontend
