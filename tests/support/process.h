// Running helper programs from tests: wait for a command and capture its output, or keep a
// background process that is stopped (SIGTERM, then SIGKILL) when the handle goes away.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace c2w::testing {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string output;  // stdout and stderr together
};

// Runs argv[0] (looked up in PATH) and waits; `stdin` is /dev/null.
CommandResult run_command(const std::vector<std::string>& argv);

class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  // Starts argv with stdout and stderr appended to `log`.
  BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& log);
  BackgroundProcess(BackgroundProcess&& other) noexcept;
  BackgroundProcess& operator=(BackgroundProcess&& other) noexcept;
  ~BackgroundProcess();

  bool running();
  void stop();
  // Waits for the process to end by itself; returns its status as CommandResult::exit_code does.
  int wait();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A fresh directory under $TMPDIR removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "c2w-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_loopback_port();

// Copies a c2w cache (e.g. the fixtures' c2w-cache with the kernel) to `dest`, modes and times
// kept, leaving its scratch (tmp/) behind: a tree discarded there may still be being removed
// by the detached rm of the process that discarded it. False when the copy fails.
bool copy_cache(const std::filesystem::path& from, const std::filesystem::path& dest);

}  // namespace c2w::testing
