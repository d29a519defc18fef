#include "base/flags.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace c2w {

FlagSpec text_flag(std::vector<std::string> names, std::string* field) {
  return {std::move(names), true, [field](const std::string&, const std::string& v) { *field = v; }};
}

FlagSpec switch_flag(std::vector<std::string> names, bool* field) {
  return {std::move(names), false, [field](const std::string&, const std::string&) { *field = true; }};
}

std::vector<std::string> parse_flags(const std::vector<FlagSpec>& flags, int argc,
                                     const char* const* argv, int first,
                                     const std::string& help_hint) {
  absl::flat_hash_map<std::string, const FlagSpec*> by_name;
  for (const FlagSpec& f : flags)
    for (const std::string& name : f.names) by_name[name] = &f;

  std::vector<std::string> positional;
  for (int i = first; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") {
      positional.insert(positional.end(), argv + i + 1, argv + argc);
      break;
    }
    if (!word.starts_with("-") || word == "-") {
      positional.push_back(word);
      continue;
    }
    // "--name=value": only long flags carry an inline value.
    std::string name = word, value;
    bool inline_value = false;
    if (word.starts_with("--")) {
      std::vector<std::string> parts = absl::StrSplit(word, absl::MaxSplits('=', 1));
      if (parts.size() == 2) {
        name = parts[0];
        value = parts[1];
        inline_value = true;
      }
    }
    const auto it = by_name.find(name);
    if (it == by_name.end()) throw UsageError(absl::StrCat("unknown option ", name), help_hint);
    const FlagSpec& spec = *it->second;
    if (!spec.takes_value) {
      if (inline_value) throw UsageError(absl::StrCat(name, " takes no value"));
    } else if (!inline_value) {
      if (i + 1 >= argc) throw UsageError(absl::StrCat(name, " needs a value"));
      value = argv[++i];
    }
    spec.apply(name, value);
  }
  return positional;
}

}  // namespace c2w
