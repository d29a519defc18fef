#include "runtime/stdio.h"

#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"

namespace c2w::runtime {
namespace {

int to_poll_ms(uint64_t timeout_ns) {
  // Bounded even without a guest timer: WasmEdge reports unpollable stdin only when the
  // clock part of the poll has expired.
  if (timeout_ns == UINT64_MAX) return 1000;
  const uint64_t ms = (timeout_ns + 999'999) / 1'000'000;
  return ms > 1000 ? 1000 : static_cast<int>(ms);
}

void sleep_ns(uint64_t ns) {
  if (ns == 0) return;
  if (ns == UINT64_MAX || ns > 60'000'000'000ull) ns = 60'000'000'000ull;
  timespec ts{static_cast<time_t>(ns / 1'000'000'000ull), static_cast<long>(ns % 1'000'000'000ull)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

bool PosixStdio::wait(uint64_t timeout_ns, bool want_stdin) {
  if (!want_stdin) {
    sleep_ns(timeout_ns);
    return false;
  }
  if (stdin_unpollable_) return true;
  pollfd p{0, POLLIN, 0};
  const int n = poll(&p, 1, to_poll_ms(timeout_ns));
  if (n < 0) {
    if (errno == EINTR) return false;
    // Not pollable (a regular file or /dev/null under some runtimes): reads never block.
    stdin_unpollable_ = true;
    return true;
  }
  // WasmEdge answers EPERM inside the event (POLLERR) where node fails the whole call.
  if (n > 0 && (p.revents & (POLLNVAL | POLLERR))) {
    stdin_unpollable_ = true;
    return true;
  }
  return n > 0;
}

long PosixStdio::read_stdin(uint8_t* buf, size_t cap) {
  for (;;) {
    const ssize_t n = read(0, buf, cap);
    if (n >= 0) return static_cast<long>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -1;
    return 0;  // unreadable stdin is the end of input
  }
}

void PosixStdio::write(int fd, std::string_view data) {
  c2w::write_all(fd, data);  // a reader that went away loses the rest, as with a terminal
}

bool PosixStdio::stdin_is_terminal() {
  if (isatty(0) != 1) return false;
  // WasmEdge reports /dev/null as a character device without seek rights, which is what
  // wasi-libc's isatty() looks for; unlike a terminal it cannot be polled.
  pollfd p{0, POLLIN, 0};
  const int n = poll(&p, 1, 0);
  return n >= 0 && !(n > 0 && (p.revents & (POLLERR | POLLNVAL)));
}

}  // namespace c2w::runtime
