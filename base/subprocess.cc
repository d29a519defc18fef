#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/fd.h"

extern char** environ;

namespace c2w {

namespace {

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (!extra.count(kv.substr(0, kv.find('=')))) out.push_back(kv);
  }
  for (const auto& [k, v] : extra) out.push_back(k + "=" + v);
  return out;
}

int decode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

int run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) throw Error("run_process: no program given");
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw system_error("cannot create a pipe", errno);
  Fd out_read(pipe_fds[0]), out_write(pipe_fds[1]);
  // The child reports a failed chdir or exec here; a successful exec closes it (O_CLOEXEC).
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw system_error("cannot create a pipe", errno);
  Fd start_read(pipe_fds[0]), start_write(pipe_fds[1]);
  std::vector<std::string> env = merged_environment(options.env);
  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const std::string& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    throw system_error("cannot start " + argv[0], errno);
  }
  if (pid == 0) {
    ::setpgid(0, 0);  // its own group, so cancellation reaches make's children too
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed c2w/c2wd takes its build step with it
    if (options.stdin_null) {
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
    }
    ::dup2(out_write.get(), 1);
    ::dup2(out_write.get(), 2);
    // Only async-signal-safe calls from here on: the failure is one byte of stage + errno.
    auto fail = [&](char stage) {
      const int err = errno;
      char report[1 + sizeof err];
      report[0] = stage;
      std::memcpy(report + 1, &err, sizeof err);
      (void)!::write(start_write.get(), report, sizeof report);
      _exit(127);
    };
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) fail('d');
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    fail('x');
  }
  ::setpgid(pid, pid);
  out_write.reset();
  start_write.reset();
  char report[1 + sizeof(int)];
  ssize_t got;
  while ((got = ::read(start_read.get(), report, sizeof report)) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof report)) {
    int err;
    std::memcpy(&err, report + 1, sizeof err);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (report[0] == 'd')
      throw system_error("cannot run " + argv[0] + " in " + options.cwd.string(), err);
    throw system_error("cannot run " + argv[0], err);
  }

  std::string partial;
  char buf[8192];
  bool cancelled = false;
  for (;;) {
    pollfd p{out_read.get(), POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (options.cancelled && options.cancelled()) {
      cancelled = true;
      ::kill(-pid, SIGTERM);
      break;
    }
    if (r <= 0) continue;
    ssize_t n = ::read(out_read.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      if (options.on_line) options.on_line(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
  }
  if (!partial.empty() && options.on_line && !cancelled) options.on_line(partial);
  out_read.reset();
  int status = 0;
  if (cancelled) {
    // SIGTERM went out above; a program that ignores it gets SIGKILL after a grace second.
    for (int i = 0; i < 50 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) ::usleep(20'000);
    ::kill(-pid, SIGKILL);  // the program if still there, and stragglers of the group
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw Cancelled();
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return decode(status);
}

}  // namespace c2w
