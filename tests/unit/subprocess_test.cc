// c2w::run_process (base/subprocess.h): exit statuses (128 + signal), output delivered line by
// line with stdout and stderr merged, the environment and working directory of the child,
// stdin, errors for programs that cannot be started, and cancellation that kills the whole
// process group (and the child dying with its caller).
#include "base/subprocess.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using c2w::ProcessOptions;
using c2w::run_process;
using c2w::testing::TempDir;
using Clock = std::chrono::steady_clock;

// Runs argv and returns (exit status, the lines it printed).
struct Outcome {
  int status = -1;
  std::vector<std::string> lines;
};

Outcome run(const std::vector<std::string>& argv, ProcessOptions options = {}) {
  Outcome r;
  options.on_line = [&](const std::string& line) { r.lines.push_back(line); };
  r.status = run_process(argv, options);
  return r;
}

Outcome sh(const std::string& script, ProcessOptions options = {}) {
  return run({"sh", "-c", script}, std::move(options));
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A process is gone when /proc has no entry for it or it is a zombie waiting to be reaped
// (orphans are reparented to a PID 1 that may not reap them).
bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = all.rfind(')');
  return paren == std::string::npos || paren + 2 >= all.size() || all[paren + 2] == 'Z';
}

bool wait_gone(pid_t pid, double timeout_s) {
  const auto start = Clock::now();
  while (seconds_since(start) < timeout_s) {
    if (process_gone(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return process_gone(pid);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- exit status ----

TEST(RunProcess, ReturnsZeroForSuccess) {
  EXPECT_EQ(run_process({"true"}), 0);
}

TEST(RunProcess, ReturnsTheExitCode) {
  EXPECT_EQ(run_process({"false"}), 1);
  EXPECT_EQ(sh("exit 3").status, 3);
  EXPECT_EQ(sh("exit 255").status, 255);
}

TEST(RunProcess, KilledBySignalIs128PlusTheSignal) {
  EXPECT_EQ(sh("kill -KILL $$").status, 128 + SIGKILL);
  EXPECT_EQ(sh("kill -TERM $$").status, 128 + SIGTERM);
  EXPECT_EQ(sh("kill -USR1 $$").status, 128 + SIGUSR1);
}

TEST(RunProcess, LooksTheProgramUpInPath) {
  // "env" has no slash: found through PATH.
  Outcome r = run({"env"});
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.lines.empty());
}

TEST(RunProcess, PassesArgumentsVerbatim) {
  Outcome r = run({"printf", "%s|", "a b", "", "$HOME", "*", "'q'"});
  ASSERT_EQ(r.status, 0);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], "a b||$HOME|*|'q'|");
}

// ---- output ----

TEST(RunProcess, DeliversEachLineWithoutItsNewline) {
  Outcome r = sh("printf 'one\\ntwo\\n\\nfour\\n'");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"one", "two", "", "four"}));
}

TEST(RunProcess, DeliversAnUnterminatedLastLine) {
  Outcome r = sh("printf 'first\\nlast'");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"first", "last"}));
}

TEST(RunProcess, NoOutputNoLines) {
  EXPECT_TRUE(sh("exit 0").lines.empty());
}

TEST(RunProcess, MergesStdoutAndStderrInOrder) {
  Outcome r = sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"out1", "err1", "out2", "err2"}));
}

TEST(RunProcess, OutputOfAFailingProgramIsStillDelivered) {
  Outcome r = sh("echo 'make: *** [all] Error 2' >&2; exit 2");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"make: *** [all] Error 2"}));
}

TEST(RunProcess, ManyLinesArriveCompleteAndInOrder) {
  Outcome r = run({"seq", "1", "50000"});
  ASSERT_EQ(r.status, 0);
  ASSERT_EQ(r.lines.size(), 50000u);
  for (size_t i = 0; i < r.lines.size(); ++i)
    ASSERT_EQ(r.lines[i], std::to_string(i + 1)) << "line " << i;
}

TEST(RunProcess, ALineLongerThanAReadBufferArrivesWhole) {
  Outcome r = sh("head -c 100000 /dev/zero | tr '\\0' x; echo; echo after");
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(r.lines[0], std::string(100000, 'x'));
  EXPECT_EQ(r.lines[1], "after");
}

TEST(RunProcess, WithoutACallbackOutputIsDrainedAndDoesNotBlock) {
  // Far more than a pipe buffer: the child must not block on a full pipe.
  const auto start = Clock::now();
  EXPECT_EQ(run_process({"seq", "1", "200000"}), 0);
  EXPECT_LT(seconds_since(start), 10);
}

// ---- environment, working directory, stdin ----

TEST(RunProcess, InheritsTheEnvironment) {
  ::setenv("C2W_SUBPROCESS_TEST_INHERITED", "from-parent", 1);
  Outcome r = sh("echo \"$C2W_SUBPROCESS_TEST_INHERITED\"");
  ::unsetenv("C2W_SUBPROCESS_TEST_INHERITED");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"from-parent"}));
}

TEST(RunProcess, EnvAddsVariables) {
  ProcessOptions o;
  o.env = {{"C2W_SUBPROCESS_TEST_A", "alpha"}, {"C2W_SUBPROCESS_TEST_B", "with space=and equals"}};
  Outcome r = sh("echo \"$C2W_SUBPROCESS_TEST_A\"; echo \"$C2W_SUBPROCESS_TEST_B\"", o);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"alpha", "with space=and equals"}));
  // Only the child sees them.
  EXPECT_EQ(std::getenv("C2W_SUBPROCESS_TEST_A"), nullptr);
}

TEST(RunProcess, EnvReplacesAnInheritedVariableOnce) {
  ::setenv("C2W_SUBPROCESS_TEST_R", "old", 1);
  ProcessOptions o;
  o.env = {{"C2W_SUBPROCESS_TEST_R", "new"}};
  Outcome r = sh("echo \"$C2W_SUBPROCESS_TEST_R\"; env | grep -c '^C2W_SUBPROCESS_TEST_R='", o);
  ::unsetenv("C2W_SUBPROCESS_TEST_R");
  // Replaced, not duplicated (a second entry would make the value depend on the reader).
  EXPECT_EQ(r.lines, (std::vector<std::string>{"new", "1"}));
}

TEST(RunProcess, EnvCanSetAnEmptyValue) {
  ::setenv("C2W_SUBPROCESS_TEST_E", "set", 1);
  ProcessOptions o;
  o.env = {{"C2W_SUBPROCESS_TEST_E", ""}};
  Outcome r = sh("echo \"[${C2W_SUBPROCESS_TEST_E-unset}]\"", o);
  ::unsetenv("C2W_SUBPROCESS_TEST_E");
  EXPECT_EQ(r.lines, (std::vector<std::string>{"[]"}));
}

TEST(RunProcess, RunsInTheGivenDirectory) {
  TempDir dir;
  ProcessOptions o;
  o.cwd = dir.path();
  Outcome r = run({"pwd", "-P"}, o);
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.lines, (std::vector<std::string>{fs::canonical(dir.path()).string()}));
  // Relative paths in the command resolve there.
  std::ofstream(dir.path() / "here.txt") << "content\n";
  EXPECT_EQ(run({"cat", "here.txt"}, o).lines, (std::vector<std::string>{"content"}));
}

TEST(RunProcess, EmptyCwdMeansTheCurrentDirectory) {
  Outcome r = run({"pwd", "-P"});
  EXPECT_EQ(r.lines, (std::vector<std::string>{fs::canonical(fs::current_path()).string()}));
}

TEST(RunProcess, DoesNotChangeTheCallersDirectory) {
  TempDir dir;
  const fs::path before = fs::current_path();
  ProcessOptions o;
  o.cwd = dir.path();
  run({"true"}, o);
  EXPECT_EQ(fs::current_path(), before);
}

// Replaces this process's stdin with a pipe holding `data` while it lives.
class StdinFrom {
 public:
  explicit StdinFrom(const std::string& data) {
    int p[2];
    EXPECT_EQ(::pipe(p), 0);
    EXPECT_EQ(::write(p[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ::close(p[1]);
    saved_ = ::dup(0);
    ::dup2(p[0], 0);
    ::close(p[0]);
  }
  ~StdinFrom() {
    ::dup2(saved_, 0);
    ::close(saved_);
  }

 private:
  int saved_ = -1;
};

TEST(RunProcess, StdinIsDevNullByDefault) {
  StdinFrom in("parent input\n");
  Outcome r = run({"cat"});
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.lines.empty());
}

TEST(RunProcess, StdinIsInheritedWhenNotNulled) {
  StdinFrom in("parent input\n");
  ProcessOptions o;
  o.stdin_null = false;
  Outcome r = run({"cat"}, o);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.lines, (std::vector<std::string>{"parent input"}));
}

// ---- programs that cannot be started ----

TEST(RunProcess, EmptyArgvThrowsError) {
  EXPECT_THROW(run_process({}), c2w::Error);
}

// Whatever form the error takes, a program that is not there never looks like a success.
TEST(RunProcess, MissingProgramIsNeverASuccess) {
  int status = 0;
  try {
    status = run_process({"c2w-no-such-program-xyz"});
  } catch (const c2w::Error&) {
    status = -1;
  }
  EXPECT_NE(status, 0);
  try {
    status = run_process({"/nonexistent/dir/prog"});
  } catch (const c2w::Error&) {
    status = -1;
  }
  EXPECT_NE(status, 0);
}

// A program that cannot be started is a c2w::Error (the child reports the failed exec), not an
// exit status with a line of output. KernelOp::cache_salt relies on it.
TEST(RunProcess, MissingProgramThrowsError) {
  EXPECT_THROW(run_process({"c2w-no-such-program-xyz"}), c2w::Error);
  EXPECT_THROW(run_process({"/nonexistent/dir/prog"}), c2w::Error);
}

TEST(RunProcess, MissingWorkingDirectoryIsNeverASuccess) {
  ProcessOptions o;
  o.cwd = "/nonexistent/c2w-subprocess-test";
  int status = 0;
  try {
    status = run_process({"true"}, o);
  } catch (const c2w::Error&) {
    status = -1;
  }
  EXPECT_NE(status, 0);
}

// The same for a working directory that does not exist: an Error naming the directory.
TEST(RunProcess, MissingWorkingDirectoryThrowsError) {
  ProcessOptions o;
  o.cwd = "/nonexistent/c2w-subprocess-test";
  EXPECT_THROW(run_process({"true"}, o), c2w::Error);
}

// ---- cancellation ----

TEST(RunProcess, NotCancelledRunsToTheEnd) {
  ProcessOptions o;
  o.cancelled = [] { return false; };
  EXPECT_EQ(sh("echo a; sleep 0.3; echo b; exit 4", o).status, 4);
}

TEST(RunProcess, CancelledThrowsCancelledPromptly) {
  ProcessOptions o;
  std::atomic<bool> started{false};
  o.cancelled = [&] { return started.load(); };
  o.on_line = [&](const std::string& line) {
    if (line == "started") started = true;
  };
  const auto start = Clock::now();
  EXPECT_THROW(run_process({"sh", "-c", "echo started; sleep 30"}, o), c2w::Cancelled);
  EXPECT_LT(seconds_since(start), 3);
}

TEST(RunProcess, CancellationIsPolledWhileTheProgramIsSilent) {
  std::atomic<bool> cancel{false};
  ProcessOptions o;
  o.cancelled = [&] { return cancel.load(); };
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  const auto start = Clock::now();
  EXPECT_THROW(run_process({"sleep", "30"}, o), c2w::Cancelled);
  t.join();
  EXPECT_LT(seconds_since(start), 3);
}

TEST(RunProcess, CancelledIsAnError) {
  // Callers that catch c2w::Error see cancellation too (header: Cancelled derives from Error).
  ProcessOptions o;
  o.cancelled = [] { return true; };
  EXPECT_THROW(run_process({"sleep", "30"}, o), c2w::Error);
}

TEST(RunProcess, CancellationKillsTheWholeProcessGroup) {
  // sh starts a grandchild (like make starting cc) and waits for it.
  pid_t grandchild = -1;
  ProcessOptions o;
  o.on_line = [&](const std::string& line) { grandchild = std::stoi(line); };
  o.cancelled = [&] { return grandchild > 0; };
  EXPECT_THROW(run_process({"sh", "-c", "sleep 30 & echo $!; wait"}, o), c2w::Cancelled);
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(wait_gone(grandchild, 3)) << "grandchild " << grandchild << " still runs";
  if (!process_gone(grandchild)) ::kill(grandchild, SIGKILL);
}

TEST(RunProcess, CancellationKillsADetachedGrandchildOfTheGroup) {
  // The grandchild outlives its parent shell; still in the group, so still killed.
  TempDir dir;
  const fs::path pidfile = dir.path() / "pid";
  ProcessOptions o;
  bool ready = false;
  o.on_line = [&](const std::string& line) { ready = ready || line == "ready"; };
  o.cancelled = [&] { return ready; };
  EXPECT_THROW(run_process({"sh", "-c",
                            "sh -c 'echo $$ > " + pidfile.string() +
                                "; exec sleep 30' </dev/null >/dev/null 2>&1 & "
                                "while [ ! -s " +
                                pidfile.string() + " ]; do sleep 0.01; done; echo ready; sleep 30"},
                           o),
               c2w::Cancelled);
  const pid_t grandchild = std::stoi(read_file(pidfile));
  EXPECT_TRUE(wait_gone(grandchild, 3)) << "grandchild " << grandchild << " still runs";
  if (!process_gone(grandchild)) ::kill(grandchild, SIGKILL);
}

// Cancellation sends SIGTERM to the group and SIGKILL after a grace second: a program that
// ignores SIGTERM (sh with `trap '' TERM`, its sleep inheriting that) cannot keep run_process
// waiting until it exits by itself.
TEST(RunProcess, CancellationKillsAProgramThatIgnoresSigterm) {
  ProcessOptions o;
  bool ready = false;
  o.on_line = [&](const std::string& line) { ready = ready || line == "ready"; };
  o.cancelled = [&] { return ready; };
  const auto start = Clock::now();
  EXPECT_THROW(run_process({"sh", "-c", "trap '' TERM; echo ready; sleep 4"}, o), c2w::Cancelled);
  EXPECT_LT(seconds_since(start), 2);
}

// base/subprocess.cc: "a killed c2w/c2wd takes its build step with it" (PR_SET_PDEATHSIG).
TEST(RunProcess, TheProgramDiesWithItsCaller) {
  TempDir dir;
  const fs::path pidfile = dir.path() / "pid";
  const pid_t caller = ::fork();
  ASSERT_GE(caller, 0);
  if (caller == 0) {
    run_process({"sh", "-c",
                 "echo $$ > " + pidfile.string() + ".tmp; mv " + pidfile.string() + ".tmp " +
                     pidfile.string() + "; exec sleep 30"});
    _exit(0);
  }
  const auto start = Clock::now();
  while (!fs::exists(pidfile) && seconds_since(start) < 5)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(pidfile));
  const pid_t program = std::stoi(read_file(pidfile));
  ::kill(caller, SIGKILL);
  ::waitpid(caller, nullptr, 0);
  EXPECT_TRUE(wait_gone(program, 3)) << "program " << program << " outlived its caller";
  if (!process_gone(program)) ::kill(program, SIGKILL);
}

TEST(RunProcess, ReturnsOnlyAfterTheProgramEnded) {
  TempDir dir;
  const fs::path marker = dir.path() / "done";
  EXPECT_EQ(sh("sleep 0.2; touch " + marker.string()).status, 0);
  EXPECT_TRUE(fs::exists(marker));
}

TEST(RunProcess, CanRunFromSeveralThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      Outcome r = sh("echo thread" + std::to_string(i) + "; exit " + std::to_string(i));
      if (r.status == i && r.lines == std::vector<std::string>{"thread" + std::to_string(i)}) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
}

}  // namespace
