// A booted riscv64 guest (kernel + initramfs with c2w's init) whose c2w.* ports are byte
// streams in the test, and a driver that speaks guest_protocol/protocol.h over them.
//
// GuestVm is the seam between machines: start_qemu() provides one with qemu-system-riscv64
// (virtio-serial ports on unix sockets, virtio-9p shares); our own emulator can provide the
// same four streams later and every test written against Driver runs on it unchanged.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "guest_protocol/protocol.h"

namespace c2w::testing {

struct VmConfig {
  std::filesystem::path kernel;
  std::filesystem::path initrd;
  std::vector<std::pair<std::string, std::filesystem::path>> shares;  // 9p tag, host dir
  std::filesystem::path disk;  // a raw read-only virtio-blk disk (c2w.disk=vda), if any
  std::string memory = "256M";
  std::string append;  // extra kernel command line
};

class GuestVm {
 public:
  virtual ~GuestVm() = default;
  // Connected streams to the ports c2w.control, c2w.stdin, c2w.stdout, c2w.stderr.
  virtual int control() = 0;
  virtual int stdin_fd() = 0;
  virtual int stdout_fd() = 0;
  virtual int stderr_fd() = 0;
  // Ends the host side of c2w.stdin: the guest reads end of input.
  virtual void close_stdin() = 0;
  // Waits for the machine to stop by itself (power-off); false on timeout.
  virtual bool wait_stopped(std::chrono::milliseconds timeout) = 0;
  // What the guest printed on its console (kernel log, init's debug log).
  virtual std::string console() = 0;
};

// The kernel for guest tests: $C2W_KERNEL, else the lead's build at
// the kernel.build fixture's Image; nullopt when neither exists.
std::optional<std::filesystem::path> guest_kernel();

// Boots qemu-system-riscv64 in `workdir` (sockets, console log); throws when it cannot start.
std::unique_ptr<GuestVm> start_qemu(const VmConfig& config, const std::filesystem::path& workdir);

// Host side of one run: wait for ready, send the request, pump the streams.
class Driver {
 public:
  explicit Driver(GuestVm& vm) : vm_(vm) {}
  bool wait_ready(std::chrono::milliseconds timeout);
  void send(const guest_protocol::Message& message);
  void write_stdin(const std::string& data);
  // Pumps control, stdout and stderr until `done()` holds or every stream ended (the machine
  // stopped) or the timeout passed; returns done() at the end.
  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Pumps until the machine has stopped; false on timeout.
  bool finish(std::chrono::milliseconds timeout);

  std::string out, err;
  std::optional<guest_protocol::Exit> exit;
  std::vector<std::string> logs;
  bool ready = false;
  std::string protocol_error;

 private:
  GuestVm& vm_;
  guest_protocol::FrameReader control_;
  bool ended_[3] = {false, false, false};
};

}  // namespace c2w::testing
