// Converted containers end to end: `c2w IMAGE out.wasm` on the busybox and hello fixtures,
// then the same scenarios on three runners: the native runner on the boot snapshot
// (c2w-vm run --restore), out.wasm on node's WASI (tools/c2w-run.mjs) and out.wasm compiled
// ahead of time by WasmEdge (tools/wasmedge). Every runner must give the same answers: what
// init does (guest side), what the runtime passes through (args, env, shares, stdin, status).
//
// The kernel comes from the kernel.build fixture's cache (copied, so conversions here never
// touch it); everything else is converted here, twice with different caches to check that
// out.wasm is reproducible.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::fixture;
using c2w::testing::TempDir;

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Result {
  int status = -1;
  std::string out, err;
};

// Shared setup: the converted modules and snapshots. ctest runs every test case in its own
// process, so they are made once into C2W_CONTAINER_DIR (in the build tree) under a lock, and
// reused while the c2w binary and the fixtures that made them are the same.
struct Converted {
  fs::path dir;
  std::map<std::string, fs::path> wasm, aot, snapshot;
  std::string error;
};

Converted* g_converted = nullptr;

std::string kernel_cache() {
  const char* f = std::getenv("C2W_FIXTURES");
  return (fs::path(f ? f : "") / "c2w-cache").string();
}

bool wasmedge_available() {
  static const bool ok =
      std::system(
          (std::string(C2W_SOURCE_DIR) + "/tools/wasmedge --version >/dev/null 2>&1").c_str()) == 0;
  return ok;
}

std::string g_last_log;  // the last conversion's progress output

std::string convert(const std::string& image, const fs::path& cache, const fs::path& out,
                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {C2W_BINARY_PATH, "--cache-dir", cache.string(),
                                   "--progress=plain"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("oci-layout:" + (fixture(image) / "layout").string());
  if (!out.empty()) argv.push_back(out.string());
  const c2w::testing::CommandResult r = c2w::testing::run_command(argv);
  g_last_log = r.output;
  if (r.exit_code != 0) return "converting " + image + " failed:\n" + r.output;
  return "";
}

const char* kImages[] = {"busybox", "hello", "debian"};

// What the conversions depend on: the c2w binary and the fixture layouts.
std::string inputs_stamp() {
  std::string stamp;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    const auto t = fs::last_write_time(p, ec).time_since_epoch().count();
    stamp += p.string() + " " + std::to_string(ec ? 0 : fs::file_size(p, ec)) + " " +
             std::to_string(t) + "\n";
  };
  add(C2W_BINARY_PATH);
  for (const char* image : kImages) add(fixture(image) / "layout" / "index.json");
  stamp += wasmedge_available() ? "wasmedge\n" : "no wasmedge\n";
  return stamp;
}

std::string make_all(Converted& c) {
  const fs::path d = c.dir;
  if (!fs::exists(fs::path(kernel_cache())))
    return "no kernel cache at " + kernel_cache() + " (the kernel.build fixture makes it)";
  // A copy of the fixture cache: the kernel is there, nothing else of ours.
  fs::remove_all(d / "cache");
  if (!c2w::testing::copy_cache(kernel_cache(), d / "cache")) return "cannot copy the kernel cache";
  for (const std::string image : kImages) {
    // Debian's 115 MB rootfs lives in guest RAM (initramfs): give it room.
    std::vector<std::string> args;
    if (image == "debian") args = {"--build-arg", "MEMORY=512M"};
    if (std::string e = convert(image, d / "cache", c.wasm[image], args); !e.empty()) return e;
    const fs::path boot = d / (image + "-boot");
    fs::remove_all(boot);
    args.insert(args.end(), {"--target", "boot", "--output", "type=local,dest=" + boot.string()});
    if (std::string e = convert(image, d / "cache", "", args); !e.empty()) return e;
    if (wasmedge_available()) {
      const std::string cmd = std::string(C2W_SOURCE_DIR) + "/tools/wasmedge compile " +
                              q(c.wasm[image].string()) + " " + q(c.aot[image].string()) + " >" +
                              q((d / "aot.log").string()) + " 2>&1";
      if (std::system(cmd.c_str()) != 0)
        return "wasmedge compile failed: " + read_text(d / "aot.log");
    }
  }
  fs::remove_all(d / "cache");  // the kernel source alone is 140 MB
  return "";
}

void convert_all() {
  g_converted = new Converted;
  Converted& c = *g_converted;
  c.dir = C2W_CONTAINER_DIR;
  fs::create_directories(c.dir);
  for (const char* image : kImages) {
    c.wasm[image] = c.dir / (std::string(image) + ".wasm");
    c.aot[image] = c.dir / (std::string(image) + ".aot.wasm");
    c.snapshot[image] = c.dir / (std::string(image) + "-boot") / "snapshot.c2wsnap";
  }
  const int lock = ::open((c.dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0) {
    c.error = "cannot lock " + (c.dir / ".lock").string();
    return;
  }
  const std::string stamp = inputs_stamp();
  if (read_text(c.dir / "stamp") != stamp) {
    fs::remove(c.dir / "stamp");
    c.error = make_all(c);
    if (c.error.empty()) std::ofstream(c.dir / "stamp") << stamp;
  }
  ::close(lock);
}

enum class Runner { kNative, kNode, kWasmEdge };

std::string runner_name(Runner r) {
  return r == Runner::kNative ? "native" : r == Runner::kNode ? "node" : "wasmedge";
}

struct Options {
  std::vector<std::pair<std::string, std::string>> dirs;  // host, guest
  std::vector<std::string> env;
  std::string stdin_text;  // empty: /dev/null
  bool stdin_text_set = false;
};

class ContainerTest : public ::testing::TestWithParam<Runner> {
 protected:
  static void SetUpTestSuite() {
    if (!g_converted) convert_all();
  }
  void SetUp() override {
    ASSERT_TRUE(g_converted->error.empty()) << g_converted->error;
    if (GetParam() == Runner::kWasmEdge && !wasmedge_available())
      GTEST_FAIL() << "tools/wasmedge does not run: scripts/setup installs WasmEdge";
  }

  Result run(const std::string& image, const std::vector<std::string>& args,
             const Options& o = {}) {
    const fs::path d = tmp_.path();
    std::string cmd;
    switch (GetParam()) {
      case Runner::kNative:
        cmd = q(C2W_VM_PATH) + " run --restore " + q(g_converted->snapshot.at(image).string());
        for (const auto& [h, g] : o.dirs) cmd += " --dir " + q(h + "::" + g);
        for (const std::string& e : o.env) cmd += " --env " + q(e);
        break;
      case Runner::kNode:
        cmd = "node --no-warnings " + q(std::string(C2W_SOURCE_DIR) + "/tools/c2w-run.mjs") + " " +
              q(g_converted->wasm.at(image).string());
        for (const auto& [h, g] : o.dirs) cmd += " --dir " + q(h + "::" + g);
        for (const std::string& e : o.env) cmd += " --env " + q(e);
        break;
      case Runner::kWasmEdge:
        cmd = q(std::string(C2W_SOURCE_DIR) + "/tools/wasmedge");
        for (const auto& [h, g] : o.dirs) cmd += " --dir " + q(g + ":" + h);
        for (const std::string& e : o.env) cmd += " --env " + q(e);
        cmd += " " + q(g_converted->aot.at(image).string());
        break;
    }
    // Runners end their own flags at `--`; WasmEdge hands everything after the module over.
    if (GetParam() != Runner::kWasmEdge) cmd += " --";
    for (const std::string& a : args) cmd += " " + q(a);
    std::string in = "/dev/null";
    if (o.stdin_text_set) {
      std::ofstream(d / "stdin", std::ios::binary) << o.stdin_text;
      in = (d / "stdin").string();
    }
    const int rc = std::system(("( " + cmd + " ) <" + q(in) + " >" + q((d / "out").string()) +
                                " 2>" + q((d / "err").string()))
                                   .c_str());
    Result r;
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = read_text(d / "out");
    r.err = read_text(d / "err");
    return r;
  }

  TempDir tmp_;
};

#define EXPECT_RUN(r, status_, out_)                         \
  do {                                                       \
    EXPECT_EQ((r).status, status_) << "stderr: " << (r).err; \
    EXPECT_EQ((r).out, out_) << "stderr: " << (r).err;       \
  } while (0)

TEST_P(ContainerTest, EchoAndUname) {
  Result r = run("busybox", {"echo", "-n", "hello"});
  EXPECT_RUN(r, 0, "hello");
  EXPECT_EQ(r.err, "");
  r = run("busybox", {"uname", "-m"});
  EXPECT_RUN(r, 0, "riscv64\n");
}

TEST_P(ContainerTest, EnvEntrypointAndStatus) {
  Options o;
  o.env = {"AAA=hello", "BBB=world"};
  EXPECT_RUN(run("busybox", {"sh", "-c", "echo -n $AAA $BBB"}, o), 0, "hello world");
  EXPECT_RUN(run("busybox", {"--entrypoint=echo", "hi"}), 0, "hi\n");
  EXPECT_RUN(run("busybox", {"--entrypoint", "echo", "--", "-n", "x"}), 0, "x");
  EXPECT_RUN(run("busybox", {"sh", "-c", "exit 7"}), 7, "");
  // The container process is PID 1 of its namespace: signals from inside it are ignored, but
  // the kernel's SIGKILL at the CPU-time hard limit is not. Reported as 128 + 9.
  EXPECT_RUN(run("busybox", {"sh", "-c", "ulimit -t 1; while :; do :; done"}), 137, "");
  const Result missing = run("busybox", {"no-such-command"});
  EXPECT_EQ(missing.status, 127) << missing.err;
}

TEST_P(ContainerTest, StderrApartFromStdout) {
  const Result r = run("busybox", {"sh", "-c", "echo out; echo err >&2; echo out2"});
  EXPECT_RUN(r, 0, "out\nout2\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST_P(ContainerTest, Stdin) {
  Options o;
  o.stdin_text = "line one\nline two\n";
  o.stdin_text_set = true;
  EXPECT_RUN(run("busybox", {"sh", "-c", "cat; echo end"}, o), 0, "line one\nline two\nend\n");
  EXPECT_RUN(run("busybox", {"wc", "-l"}, o), 0, "2\n");
  EXPECT_RUN(run("busybox", {"--no-stdin", "sh", "-c", "cat; echo end"}, o), 0, "end\n");
}

TEST_P(ContainerTest, SharedDirectory) {
  const fs::path share = tmp_.path() / "share";
  fs::create_directories(share / "dir");
  std::ofstream(share / "dir" / "hi") << "hello from the host\n";
  std::ofstream(share / "old") << "old content that is longer\n";
  Options o;
  o.dirs = {{share.string(), "/mapped"}};
  const Result r = run("busybox",
                       {"sh", "-c",
                        "cat /mapped/dir/hi && mkdir /mapped/new && echo made > /mapped/new/f && "
                        "echo new > /mapped/old && echo inside > /tmp/x && cat /tmp/x && "
                        "ls /mapped | sort | tr '\\n' ' '"},
                       o);
  EXPECT_RUN(r, 0, "hello from the host\ninside\ndir new old ");
  EXPECT_EQ(read_text(share / "new" / "f"), "made\n");
  EXPECT_EQ(read_text(share / "old"), "new\n");
}

TEST_P(ContainerTest, HelloImageConfig) {
  // The hello fixture's Entrypoint, Cmd, Env, WorkingDir and User (tests/fixtures/make-fixtures).
  Result r = run("hello", {});
  EXPECT_EQ(r.status, 0) << r.err;
  for (const char* line :
       {"arg0=/usr/bin/hello\n", "arg1=--greet\n", "arg2=world\n", "env HELLO_ENV=from-image\n",
        "env EXTRA_ENV=(unset)\n", "env PATH=/usr/local/bin:/usr/bin:/bin\n", "cwd=/work\n",
        "uid=1000 gid=1000\n"})
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " missing from:\n" << r.out;
  EXPECT_EQ(r.err, "");

  Options o;
  o.env = {"HELLO_ENV=from-host", "EXTRA_ENV=extra"};
  r = run("hello", {"--stderr", "to-stderr", "--exit", "3"}, o);
  EXPECT_EQ(r.status, 3) << r.err;
  EXPECT_NE(r.out.find("arg0=/usr/bin/hello\narg1=--stderr\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("env HELLO_ENV=from-host\nenv EXTRA_ENV=extra\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.err, "to-stderr\n");
}

TEST_P(ContainerTest, KernelPanicEndsTheModuleWithAClearLine) {
  // Out of memory with panic_on_oom: the guest kernel panics (and resets at once, panic=-1).
  const Result r =
      run("busybox", {"sh", "-c", "echo 1 > /proc/sys/vm/panic_on_oom && tail /dev/zero"});
  EXPECT_EQ(r.status, 125) << r.err;
  EXPECT_NE(r.err.find("c2w: the guest kernel panicked: Kernel panic - not syncing: Out of memory"),
            std::string::npos)
      << r.err;
}

// An interactive shell on a terminal: the prompt appears, a command is answered, `exit` ends
// the module with the shell's status.
class Pty {
 public:
  explicit Pty(const std::string& cmd) {
    winsize ws{24, 80, 0, 0};
    pid_ = forkpty(&master_, nullptr, nullptr, &ws);
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Pty() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
  }
  bool started() const { return pid_ > 0; }
  void send(const std::string& s) { (void)!write(master_, s.data(), s.size()); }
  // Reads until `text` appeared in everything read so far, or the time is up.
  bool expect(const std::string& text, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (seen_.find(text, consumed_) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) return false;
      seen_.append(buf, static_cast<size_t>(n));
    }
    consumed_ = seen_.find(text, consumed_) + text.size();
    return true;
  }
  int wait_exit(std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      char buf[4096];
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0 && read(master_, buf, sizeof buf) > 0) continue;
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        reaped_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
    }
    return -1;
  }
  const std::string& seen() const { return seen_; }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string seen_;
  size_t consumed_ = 0;
};

void interactive_shell(Runner runner, const std::string& image) {
  std::string cmd;
  switch (runner) {
    case Runner::kNative:
      cmd = q(C2W_VM_PATH) + " run --restore " + q(g_converted->snapshot.at(image).string());
      break;
    case Runner::kNode:
      cmd = "node --no-warnings " + q(std::string(C2W_SOURCE_DIR) + "/tools/c2w-run.mjs") + " " +
            q(g_converted->wasm.at(image).string());
      break;
    case Runner::kWasmEdge:
      cmd = q(std::string(C2W_SOURCE_DIR) + "/tools/wasmedge") + " " +
            q(g_converted->aot.at(image).string());
      break;
  }
  Pty t(cmd + " -- sh");
  ASSERT_TRUE(t.started());
  ASSERT_TRUE(t.expect("# ", std::chrono::seconds(60))) << "no prompt; the terminal showed:\n"
                                                        << t.seen();
  t.send("echo -n hel; echo -n lo; echo ' from sh'\r");
  EXPECT_TRUE(t.expect("hello from sh", std::chrono::seconds(30))) << t.seen();
  t.send("exit 3\r");
  EXPECT_EQ(t.wait_exit(std::chrono::seconds(30)), 3) << t.seen();
}

TEST_P(ContainerTest, InteractiveShellOnATerminal) {
  interactive_shell(GetParam(), "busybox");
}

TEST_P(ContainerTest, DebianUserland) {
  Result r = run("debian", {"sh", "-c", "echo -n hello; uname -m; dpkg -l | grep -c '^ii'"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("helloriscv64\n", 0), 0u) << r.out;
  EXPECT_GT(std::atoi(r.out.substr(r.out.find('\n') + 1).c_str()), 50) << r.out;
  Options o;
  o.env = {"AAA=hello", "BBB=world"};
  EXPECT_RUN(run("debian", {"bash", "-c", "echo -n $AAA $BBB; exit 7"}, o), 7, "hello world");
  r = run("debian", {"apt-get", "--version"});
  EXPECT_EQ(r.out.rfind("apt ", 0), 0u) << r.out << r.err;
  interactive_shell(GetParam(), "debian");
}

INSTANTIATE_TEST_SUITE_P(Runners, ContainerTest,
                         ::testing::Values(Runner::kNative, Runner::kNode, Runner::kWasmEdge),
                         [](const auto& p) { return runner_name(p.param); });

TEST(ContainerConvert, SameInputsGiveTheSameModule) {
  if (!g_converted) convert_all();
  ASSERT_TRUE(g_converted->error.empty()) << g_converted->error;
  TempDir d;
  ASSERT_TRUE(c2w::testing::copy_cache(kernel_cache(), d.path() / "cache"));
  const std::string err = convert("busybox", d.path() / "cache", d.path() / "again.wasm");
  ASSERT_EQ(err, "");
  // The boot and the pack really ran again (the copied cache held only the kernel).
  EXPECT_EQ(g_last_log.find("CACHED", g_last_log.find("] BOOT ")), std::string::npos) << g_last_log;
  EXPECT_EQ(read_text(d.path() / "again.wasm"), read_text(g_converted->wasm.at("busybox")))
      << "two conversions of the same image differ";
}

}  // namespace
