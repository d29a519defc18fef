// Command-line flags as container2wasm and Docker spell them, for the native commands (c2w,
// c2wd): `--name VALUE` and `--name=VALUE` for a flag with a value, `--name` alone for a
// switch (which refuses `=VALUE`), aliases (`-o` for `--output`), `--` ending the flags, and
// every other word positional, in order. A table replaces the chain of string compares each
// command used to write by hand.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/error.h"

namespace c2w {

// A command-line mistake: the command prints it with its usage line (exit status 2).
class UsageError : public Error {
 public:
  using Error::Error;
};

struct FlagSpec {
  std::vector<std::string> names;  // "--output", "-o": the first is the one messages use
  bool takes_value = true;
  // Called for each occurrence, in command-line order, with the name as written.
  std::function<void(const std::string& name, const std::string& value)> apply;
};

// The common kinds: a flag whose value is stored in `field` (the last one given wins), and a
// switch that sets `field`.
FlagSpec text_flag(std::vector<std::string> names, std::string* field);
FlagSpec switch_flag(std::vector<std::string> names, bool* field);

// Applies argv[first..argc) to `flags` and returns the positional words. Throws UsageError for
// an unknown flag (with `help_hint` as its hint), a missing value or a value given to a
// switch; lets what `apply` throws pass.
std::vector<std::string> parse_flags(const std::vector<FlagSpec>& flags, int argc,
                                     const char* const* argv, int first,
                                     const std::string& help_hint);

}  // namespace c2w
