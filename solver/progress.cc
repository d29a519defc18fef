#include "solver/progress.h"

#include <chrono>

namespace c2w::solver {

int64_t now_unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void VertexProgress::log(std::string_view line, int stream) {
  v1::SolveStatus s;
  auto* l = s.add_logs();
  l->set_vertex(vertex_);
  l->set_stream(stream);
  l->set_data(std::string(line) + (line.ends_with('\n') ? "" : "\n"));
  l->set_unix_nanos(now_unix_nanos());
  sink_.write(s);
}

void VertexProgress::counter(const std::string& id, const std::string& name, int64_t current,
                             int64_t total, bool bytes) {
  int64_t now = now_unix_nanos();
  {
    std::lock_guard lock(mu_);
    bool final = total > 0 && current >= total;
    if (!final && id == last_id_ && now - last_emit_ns_ < 100'000'000) return;
    last_id_ = id;
    last_emit_ns_ = now;
  }
  v1::SolveStatus s;
  auto* p = s.add_statuses();
  p->set_vertex(vertex_);
  p->set_id(id);
  p->set_name(name);
  p->set_current(current);
  p->set_total(total);
  p->set_unit(bytes ? v1::VertexProgress::UNIT_BYTES : v1::VertexProgress::UNIT_ITEMS);
  sink_.write(s);
}

}  // namespace c2w::solver
