// The runtime's view of its own process: stdin, stdout, stderr and sleeping. One POSIX
// implementation serves the native runner and the wasm32-wasi module (wasi-libc's poll() is
// poll_oneoff: fd 0 read + clock), so an idle guest costs no host CPU and input wakes it at once.
//
// Promises:
//  - wait() never spins: stdin that cannot be polled (node answers EPERM for /dev/null or a
//    regular file) is treated as always readable, and time passes with a clock-only poll;
//  - write() delivers everything or drops what a closed reader no longer takes (as a terminal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace c2w::runtime {

class Stdio {
 public:
  virtual ~Stdio() = default;
  // Sleeps until stdin has input (when want_stdin) or timeout_ns passed (UINT64_MAX: none).
  // Returns whether stdin is worth reading now.
  virtual bool wait(uint64_t timeout_ns, bool want_stdin) = 0;
  // Reads what stdin has: > 0 bytes, 0 at end of input, -1 when nothing is there now.
  virtual long read_stdin(uint8_t* buf, size_t cap) = 0;
  virtual void write(int fd, std::string_view data) = 0;
  virtual bool stdin_is_terminal() = 0;
  // A new terminal size the host learned of since the last call (the browser page's terminal
  // was resized): the session passes it to the guest as guest_protocol::Resize.
  virtual bool take_resize(uint16_t* rows, uint16_t* cols) {
    (void)rows;
    (void)cols;
    return false;
  }
};

class PosixStdio final : public Stdio {
 public:
  bool wait(uint64_t timeout_ns, bool want_stdin) override;
  long read_stdin(uint8_t* buf, size_t cap) override;
  void write(int fd, std::string_view data) override;
  bool stdin_is_terminal() override;

 private:
  bool stdin_unpollable_ = false;
};

}  // namespace c2w::runtime
