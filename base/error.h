// The error type of the engine: a one-line message naming what was wrong, plus a hint saying
// what to do. The CLI prints "c2w: error: <message>" and, on the next line, "  hint: <hint>".
#pragma once

#include <stdexcept>
#include <string>

namespace c2w {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string hint = {})
      : std::runtime_error(message), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

// Thrown when the user or a signal cancelled the work; never cached, never a failure of an op.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

// An Error for a failed system call: "<what>: <strerror(errno)>", with a hint for ENOSPC.
Error system_error(const std::string& what, int err);

}  // namespace c2w
