// One run of a container on a booted (usually restored) container machine: the host side of
// init/README.md's protocol. Sends the run request, relays stdin to c2w.stdin and
// c2w.stdout/c2w.stderr to fds 1 and 2, and returns the status the process should exit with.
//
// Promises:
//  - stdin is read only as fast as the guest takes it (at most kStdinBuffer bytes held), its
//    end closes c2w.stdin only after every byte was delivered;
//  - when the guest is idle the host sleeps in Stdio::wait until the next guest timer or input;
//  - the result is the container's status (128 + signal when killed); a guest that stops
//    without reporting one (kernel panic, init killed, power-off) or an emulator fault gives
//    kFailed with one clear line on stderr naming what happened.
#pragma once

#include <cstdint>
#include <string>

#include "emulators/common/host.h"
#include "emulators/riscv64/machine.h"
#include "guest_protocol/protocol.h"
#include "runtime/container_vm.h"
#include "runtime/stdio.h"

namespace c2w::runtime {

inline constexpr int kFailed = 125;  // Docker's status for "the runtime itself failed"

struct SessionOptions {
  bool echo_console = false;   // copy the guest kernel console (hvc0) to stderr
  uint64_t slice = 4'000'000;  // guest instructions between looks at the host
  // A freshly booted machine: send the request once init said ready. A restored boot
  // snapshot was taken with init waiting for the request, so it goes at once.
  bool wait_for_ready = false;
  // After the exit message, how long (host time) init may take to sync and power off.
  uint64_t shutdown_grace_ns = 10'000'000'000ull;
};

class Session {
 public:
  static constexpr size_t kStdinBuffer = 64 << 10;

  Session(riscv64::Machine& m, Ports ports, Stdio& io, emulators::Host& clock,
          SessionOptions options = {});
  // Runs the request to the end. The request's time is filled in from the host clock.
  int run(guest_protocol::RunRequest request);

 private:
  bool drain_outputs();  // false on a protocol error (reported)
  void feed_stdin();
  void fail(const std::string& what);
  std::string panic_line() const;

  riscv64::Machine& m_;
  Ports ports_;
  Stdio& io_;
  emulators::Host& clock_;
  SessionOptions options_;

  std::string to_control_;  // bytes of the run request not yet taken by the guest
  std::string stdin_pending_;
  bool stdin_eof_ = false;
  bool stdin_wanted_ = false;
  bool stdin_closed_ = false;
  guest_protocol::FrameReader control_;
  std::string console_tail_;
  bool ready_ = false;
  bool exited_ = false;
  guest_protocol::Exit exit_;
  int failed_ = 0;
};

}  // namespace c2w::runtime
