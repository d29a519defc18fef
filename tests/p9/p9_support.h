// A share in a fresh temp dir served by a Server over PosixFs, with a started Client, plus
// helpers to make and read host files. The share is <tmp>/share so tests can keep files
// outside it (<tmp>/outside) and check they are never touched.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "emulators/p9/posix_fs.h"
#include "emulators/p9/server.h"
#include "tests/p9/p9_client.h"
#include "tests/support/process.h"

namespace c2w::p9::test {

// Malformed replies seen by any Client fail the running test.
inline const bool kGtestProblemHook = [] {
  set_problem_hook([](const char* what) { ADD_FAILURE() << "malformed 9P reply: " << what; });
  return true;
}();

class ShareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(share());
    std::filesystem::create_directories(outside());
    put(outside() / "secret", "top secret");
    ::chmod((outside() / "secret").c_str(), secret_mode_);
    ASSERT_EQ(PosixFs::create_share(share().c_str(), &fs_), 0);
    server_ = std::make_unique<Server>(fs_.get(), options());
    client_ = std::make_unique<Client>(*server_);
    ASSERT_EQ(client_->start(), 0);
  }
  virtual ServerOptions options() { return ServerOptions{}; }

  std::filesystem::path share() const { return tmp_.path() / "share"; }
  std::filesystem::path outside() const { return tmp_.path() / "outside"; }
  Client& c() { return *client_; }
  Server& server() { return *server_; }

  static void put(const std::filesystem::path& p, const std::string& data) {
    std::ofstream f(p, std::ios::binary);
    f << data;
  }
  static std::string get(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  static struct stat lstat_of(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st;
  }
  // The outside file is exactly as SetUp left it.
  void expect_outside_intact() {
    EXPECT_EQ(get(outside() / "secret"), "top secret");
    struct stat st = lstat_of(outside() / "secret");
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_nlink, 1u);
    EXPECT_EQ(st.st_mode & 07777, secret_mode_);
  }

  c2w::testing::TempDir tmp_{"c2w-p9"};
  std::unique_ptr<PosixFs> fs_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Client> client_;
  mode_t secret_mode_ = 0644;
};

}  // namespace c2w::p9::test
