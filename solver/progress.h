// The progress stream of a solve: vertices started / cached / completed / failed, log lines
// and counters (e.g. bytes of a layer download), as c2w.v1.SolveStatus messages (the same
// messages c2wd streams over gRPC). A ProgressSink receives them; printers render them.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "c2w/v1/progress.pb.h"

namespace c2w::solver {

class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // Called from several threads; implementations serialise as they need.
  virtual void write(const v1::SolveStatus& status) = 0;
};

// What an op sees: progress scoped to its own vertex.
class VertexProgress {
 public:
  VertexProgress(ProgressSink& sink, std::string vertex)
      : sink_(sink), vertex_(std::move(vertex)) {}
  void log(std::string_view line, int stream = 1);
  // A counter; `total` 0 when unknown. Calls are rate-limited per id except the final one.
  void counter(const std::string& id, const std::string& name, int64_t current, int64_t total,
               bool bytes = true);

 private:
  ProgressSink& sink_;
  std::string vertex_;
  std::mutex mu_;
  std::string last_id_;
  int64_t last_emit_ns_ = 0;
};

int64_t now_unix_nanos();

}  // namespace c2w::solver
