// Renders a solve's progress stream for people and programs:
//   plain  one line per event, BuildKit-style ("#3 [image] FROM ...", "#3 CACHED", "#3 DONE 1.2s")
//   tty    a live view redrawn ten times a second: one line per vertex with elapsed time,
//          CACHED, and bytes done of total for downloads; errors, and the logs of running
//          and failed vertices, stay on screen; lines are cut to the terminal's width
//   json   each c2w.v1.SolveStatus as one JSON line (for tools)
//   auto   tty when stderr is a terminal, else plain
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "solver/progress.h"

namespace c2w::client {

class ProgressPrinter : public solver::ProgressSink {
 public:
  // Flushes and stops any redraw thread. The tty view ends with its FINISHED or FAILED line;
  // plain and json add nothing (c2w's own last line says what was written).
  virtual void finish(bool ok) = 0;
};

// `mode` is plain, tty, json or auto; throws c2w::Error for anything else.
std::unique_ptr<ProgressPrinter> make_progress_printer(const std::string& mode, FILE* out);

// "12.3MB" style sizes and "1.2s" style durations for the printers.
std::string human_bytes(int64_t bytes);
std::string human_seconds(double seconds);

}  // namespace c2w::client
