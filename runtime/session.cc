#include "runtime/session.h"

#include <variant>

namespace c2w::runtime {
namespace {

constexpr size_t kConsoleTail = 8192;

}  // namespace

Session::Session(riscv64::Machine& m, Ports ports, Stdio& io, emulators::Host& clock,
                 SessionOptions options)
    : m_(m), ports_(ports), io_(io), clock_(clock), options_(options) {}

void Session::fail(const std::string& what) {
  io_.write(2, "c2w: " + what + "\n");
  failed_ = kFailed;
}

std::string Session::panic_line() const {
  const size_t at = console_tail_.rfind("Kernel panic - not syncing");
  if (at == std::string::npos) return "";
  const size_t end = console_tail_.find('\n', at);
  std::string line = console_tail_.substr(at, end == std::string::npos ? end : end - at);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

bool Session::drain_outputs() {
  std::string console = m_.take_console_output();
  if (!console.empty()) {
    if (options_.echo_console) io_.write(2, console);
    console_tail_ += console;
    if (console_tail_.size() > 2 * kConsoleTail)
      console_tail_.erase(0, console_tail_.size() - kConsoleTail);
  }
  const std::string out = m_.take_port_output(static_cast<unsigned>(ports_.out));
  if (!out.empty()) io_.write(1, out);
  const std::string err = m_.take_port_output(static_cast<unsigned>(ports_.err));
  if (!err.empty()) io_.write(2, err);
  const std::string ctl = m_.take_port_output(static_cast<unsigned>(ports_.control));
  if (ctl.empty()) return true;
  control_.feed(ctl);
  for (;;) {
    guest_protocol::Decoded d = control_.next();
    if (d.status == guest_protocol::DecodeStatus::kNeedMore) return true;
    if (d.status == guest_protocol::DecodeStatus::kError) {
      fail("the guest's init broke the control protocol: " + d.error);
      return false;
    }
    if (const auto* e = std::get_if<guest_protocol::Exit>(&d.message)) {
      exited_ = true;
      exit_ = *e;
    } else if (const auto* l = std::get_if<guest_protocol::Log>(&d.message)) {
      io_.write(2, "c2w-init: " + l->text + "\n");
    } else if (std::holds_alternative<guest_protocol::Ready>(d.message)) {
      ready_ = true;
    }
  }
}

void Session::feed_stdin() {
  if (!stdin_wanted_ || stdin_closed_) return;
  const auto in = static_cast<unsigned>(ports_.in);
  if (!stdin_pending_.empty() && m_.port_guest_open(in)) {
    const uint32_t n = m_.port_input(in, reinterpret_cast<const uint8_t*>(stdin_pending_.data()),
                                     static_cast<uint32_t>(stdin_pending_.size()));
    stdin_pending_.erase(0, n);
  }
  if (stdin_eof_ && stdin_pending_.empty()) {
    m_.set_port_host_open(in, false);
    stdin_closed_ = true;
  }
}

int Session::run(guest_protocol::RunRequest request) {
  if (!ports_.complete()) {
    fail("the machine lacks the c2w.* console ports; was the snapshot made by c2w?");
    return failed_;
  }
  stdin_wanted_ = request.stdin_open;
  ready_ = !options_.wait_for_ready;
  bool request_sent = false;
  uint64_t exited_at = 0;
  uint8_t buf[16 << 10];

  for (;;) {
    if (ready_ && !request_sent) {
      const int64_t now = clock_.realtime_ns();
      request.time_sec = now / 1'000'000'000;
      request.time_nsec = static_cast<uint32_t>(now % 1'000'000'000);
      to_control_ = guest_protocol::encode(request);
      request_sent = true;
    }
    if (uint16_t rows, cols; request_sent && io_.take_resize(&rows, &cols) && rows && cols)
      to_control_ += guest_protocol::encode(guest_protocol::Resize{rows, cols});
    if (!to_control_.empty()) {
      const uint32_t n = m_.port_input(static_cast<unsigned>(ports_.control),
                                       reinterpret_cast<const uint8_t*>(to_control_.data()),
                                       static_cast<uint32_t>(to_control_.size()));
      to_control_.erase(0, n);
    }
    feed_stdin();

    const riscv64::RunResult r = m_.run(options_.slice);
    if (!drain_outputs()) return failed_;

    if (r.stop == riscv64::Stop::kHalted) {
      if (exited_) return exit_.host_status();
      const std::string panic = panic_line();
      if (!panic.empty())
        fail("the guest kernel panicked: " + panic);
      else if (m_.rebooted())
        fail("the guest rebooted before the container exited (kernel panic or init killed)");
      else
        fail("the guest powered off before the container exited");
      return failed_;
    }
    if (r.stop == riscv64::Stop::kError) {
      fail("emulator error: " + m_.error());
      return failed_;
    }
    const uint64_t now = clock_.monotonic_ns();
    if (exited_) {
      if (!exited_at) exited_at = now;
      // Init syncs and powers off after the exit message; a guest that never does still ends.
      if (now - exited_at > options_.shutdown_grace_ns) return exit_.host_status();
    }

    const bool want_stdin =
        stdin_wanted_ && !stdin_eof_ && !exited_ && stdin_pending_.size() < kStdinBuffer;
    uint64_t timeout = 0;
    if (r.stop == riscv64::Stop::kIdle)
      timeout = r.deadline_ns == UINT64_MAX ? UINT64_MAX
                : r.deadline_ns > now       ? r.deadline_ns - now
                                            : 0;
    if (exited_ && timeout > 100'000'000) timeout = 100'000'000;
    if (!io_.wait(timeout, want_stdin) || !want_stdin) continue;
    const long n = io_.read_stdin(buf, sizeof buf < kStdinBuffer - stdin_pending_.size()
                                           ? sizeof buf
                                           : kStdinBuffer - stdin_pending_.size());
    if (n == 0) stdin_eof_ = true;
    if (n > 0) stdin_pending_.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
  }
}

}  // namespace c2w::runtime
