// Running a helper program (make, tar, ...) from an op: output delivered line by line to a
// callback (stdout and stderr merged, as a build log), cancellation that stops the whole
// process group, and the exit status as a number (128 + signal when killed).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace c2w {

struct ProcessOptions {
  std::filesystem::path cwd;                        // empty: the current directory
  std::map<std::string, std::string> env;           // added to (or replacing in) the environment
  std::function<void(const std::string&)> on_line;  // each output line, without the newline
  std::function<bool()> cancelled;                  // polled; true kills the process group
  bool stdin_null = true;
};

// Returns the exit status; throws c2w::Error when the program cannot be started and
// c2w::Cancelled when `cancelled` returned true (the process group is killed first).
int run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

}  // namespace c2w
