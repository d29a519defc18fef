// A c2wd for a test: started on its own socket (or a given address) with the given cache dir,
// ready when it returns, stopped (SIGTERM) when the handle goes away. Header-only: the test
// target defines C2WD_BINARY_PATH.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/tree_compare.h"

namespace c2w::testing {

struct C2wd {
  TempDir dir{"c2wd"};
  std::string address;
  BackgroundProcess proc;
  C2wd(const std::filesystem::path& cache_dir, std::vector<std::string> extra = {},
       std::string addr = "") {
    address = addr.empty() ? "unix://" + (dir.path() / "c2wd.sock").string() : addr;
    std::vector<std::string> argv = {C2WD_BINARY_PATH, "--addr", address, "--cache-dir",
                                     cache_dir.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc = BackgroundProcess(argv, dir.path() / "log");
    for (int i = 0; i < 200 && log().find("serving on") == std::string::npos; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string log() const { return slurp(dir.path() / "log"); }
};

}  // namespace c2w::testing
