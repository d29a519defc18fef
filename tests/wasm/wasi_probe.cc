// A wasm32-wasi program that checks the WASI features the c2w runtime relies on: arguments,
// environment, a preopened directory (read and write), the clocks and poll_oneoff sleeping.
// It prints one line per check and exits with the number of failed checks.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const char* what, const std::string& detail = {}) {
  std::printf("%s %s%s%s\n", ok ? "ok" : "FAIL", what, detail.empty() ? "" : ": ", detail.c_str());
  if (!ok) ++failures;
}

// Sleeps with a clock-only poll_oneoff, the way the emulator idles.
bool poll_sleep(uint64_t nanos) {
  __wasi_subscription_t sub{};
  sub.userdata = 42;
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  sub.u.u.clock.timeout = nanos;
  __wasi_event_t event{};
  __wasi_size_t n = 0;
  return __wasi_poll_oneoff(&sub, &event, 1, &n) == 0 && n == 1 && event.userdata == 42;
}

}  // namespace

int main(int argc, char** argv) {
  check(argc >= 2 && std::strcmp(argv[1], "probe-arg") == 0, "args",
        argc >= 2 ? argv[1] : "(none)");
  const char* env = std::getenv("PROBE_ENV");
  check(env && std::strcmp(env, "probe-value") == 0, "env", env ? env : "(unset)");

  const char* dir = argc >= 3 ? argv[2] : "/shared";
  std::string in_path = std::string(dir) + "/in.txt";
  std::string out_path = std::string(dir) + "/out.txt";
  char buf[64] = {};
  int fd = open(in_path.c_str(), O_RDONLY);
  ssize_t got = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  check(got > 0 && std::strncmp(buf, "from-host", 9) == 0, "preopen read", in_path);
  fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  bool wrote = fd >= 0 && write(fd, "from-wasm\n", 10) == 10;
  if (fd >= 0) close(fd);
  check(wrote, "preopen write", out_path);

  timespec t0{}, t1{}, wall{};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  bool slept = poll_sleep(20'000'000);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  clock_gettime(CLOCK_REALTIME, &wall);
  int64_t elapsed = (t1.tv_sec - t0.tv_sec) * 1'000'000'000LL + (t1.tv_nsec - t0.tv_nsec);
  check(slept && elapsed >= 15'000'000, "poll_oneoff clock sleep",
        std::to_string(elapsed / 1000) + " us");
  check(wall.tv_sec > 1'600'000'000, "realtime clock", std::to_string(wall.tv_sec));
  return failures;
}
