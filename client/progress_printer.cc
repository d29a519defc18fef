#include "client/progress_printer.h"

#include <google/protobuf/util/json_util.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "base/error.h"

namespace c2w::client {

namespace {

struct VertexState {
  int number = 0;
  std::string name;
  bool cached = false;
  int64_t started = 0, completed = 0;
  std::string error;
  std::map<std::string, v1::VertexProgress> counters;
  std::vector<std::string> logs;  // last few lines
};

// Merges status updates into per-vertex state; shared by the plain and tty printers.
class State {
 public:
  VertexState& vertex(const std::string& digest) {
    auto [it, inserted] = vertices_.try_emplace(digest);
    if (inserted) {
      it->second.number = static_cast<int>(order_.size()) + 1;
      order_.push_back(digest);
    }
    return it->second;
  }
  const std::vector<std::string>& order() const { return order_; }

 private:
  std::map<std::string, VertexState> vertices_;
  std::vector<std::string> order_;
};

std::string counter_text(const v1::VertexProgress& p) {
  if (p.unit() != v1::VertexProgress::UNIT_BYTES)
    return std::to_string(p.current()) + (p.total() ? " / " + std::to_string(p.total()) : "");
  return human_bytes(p.current()) + (p.total() ? " / " + human_bytes(p.total()) : "");
}

class PlainPrinter : public ProgressPrinter {
 public:
  explicit PlainPrinter(FILE* out) : out_(out) {}
  void write(const v1::SolveStatus& status) override {
    std::lock_guard lock(mu_);
    for (const v1::Vertex& v : status.vertexes()) {
      VertexState& s = state_.vertex(v.digest());
      s.name = v.name();
      if (v.started_unix_nanos() && !s.started) {
        s.started = v.started_unix_nanos();
        std::fprintf(out_, "#%d %s\n", s.number, s.name.c_str());
      }
      if (v.completed_unix_nanos() && !s.completed) {
        s.completed = v.completed_unix_nanos();
        if (!v.error().empty())
          std::fprintf(out_, "#%d ERROR: %s\n", s.number, v.error().c_str());
        else if (v.cached())
          std::fprintf(out_, "#%d CACHED\n", s.number);
        else
          std::fprintf(out_, "#%d DONE %s\n", s.number,
                       human_seconds((s.completed - s.started) / 1e9).c_str());
      }
    }
    for (const v1::VertexProgress& p : status.statuses()) {
      VertexState& s = state_.vertex(p.vertex());
      bool done = p.total() > 0 && p.current() >= p.total();
      if (done)
        std::fprintf(out_, "#%d %s %s done\n", s.number, p.name().c_str(), counter_text(p).c_str());
    }
    for (const v1::VertexLog& l : status.logs()) {
      VertexState& s = state_.vertex(l.vertex());
      double t = s.started ? (l.unix_nanos() - s.started) / 1e9 : 0;
      std::fprintf(out_, "#%d %.3f %s", s.number, t, l.data().c_str());
    }
    std::fflush(out_);
  }
  void finish(bool) override { std::fflush(out_); }

 private:
  FILE* out_;
  std::mutex mu_;
  State state_;
};

class TtyPrinter : public ProgressPrinter {
 public:
  explicit TtyPrinter(FILE* out) : out_(out), start_(solver::now_unix_nanos()) {
    thread_ = std::thread([this] {
      std::unique_lock lock(mu_);
      while (!stop_) {
        draw(lock);
        cv_.wait_for(lock, std::chrono::milliseconds(100));
      }
    });
  }
  ~TtyPrinter() override {
    if (thread_.joinable()) finish(true);
  }
  void write(const v1::SolveStatus& status) override {
    std::lock_guard lock(mu_);
    for (const v1::Vertex& v : status.vertexes()) {
      VertexState& s = state_.vertex(v.digest());
      s.name = v.name();
      s.cached = s.cached || v.cached();
      if (v.started_unix_nanos() && !s.started) s.started = v.started_unix_nanos();
      if (v.completed_unix_nanos()) s.completed = v.completed_unix_nanos();
      if (!v.error().empty()) s.error = v.error();
    }
    for (const v1::VertexProgress& p : status.statuses())
      state_.vertex(p.vertex()).counters[p.id()] = p;
    for (const v1::VertexLog& l : status.logs()) {
      auto& logs = state_.vertex(l.vertex()).logs;
      logs.push_back(l.data());
      if (logs.size() > 6) logs.erase(logs.begin());
    }
  }
  void finish(bool ok) override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      ok_ = ok;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::unique_lock lock(mu_);
    draw(lock);
  }

 private:
  void draw(std::unique_lock<std::mutex>&) {
    std::string frame;
    for (int i = 0; i < lines_; ++i) frame += "\x1b[1A\x1b[2K";  // up one line, clear it
    int64_t now = solver::now_unix_nanos();
    std::vector<std::string> lines;
    lines.push_back("[+] Building " + human_seconds((now - start_) / 1e9) +
                    (stop_ ? (ok_ ? " FINISHED" : " FAILED") : ""));
    for (const std::string& d : state_.order()) {
      const VertexState& s = state_.vertex(d);
      if (!s.started) continue;
      std::string line = " => " + s.name;
      if (s.cached && s.completed)
        line += "  CACHED";
      else if (!s.error.empty())
        line += "  ERROR";
      else
        line += "  " + human_seconds(((s.completed ? s.completed : now) - s.started) / 1e9);
      lines.push_back(line);
      if (!s.completed)
        for (const auto& [id, p] : s.counters)
          lines.push_back("   " + p.name() + " " + counter_text(p));
      if (!s.error.empty() || (!s.completed && !s.logs.empty()))
        for (const std::string& l : s.logs)
          lines.push_back("   > " + l.substr(0, l.find_last_not_of('\n') + 1));
      if (!s.error.empty()) lines.push_back("   ERROR: " + s.error);
    }
    // One terminal row per line: the next frame moves up by the count of lines, so a line
    // wider than the terminal (which would wrap onto more rows) is cut to fit.
    const size_t width = terminal_width();
    for (std::string& l : lines) frame += fit(std::move(l), width) + "\n";
    lines_ = static_cast<int>(lines.size());
    std::fputs(frame.c_str(), out_);
    std::fflush(out_);
  }

  size_t terminal_width() const {
    winsize ws{};
    return ::ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
  }
  // `line` cut to width - 1 columns (the last one stays free so no terminal wraps early),
  // at a UTF-8 character boundary, with any newline inside it ending it; 0: no limit.
  static std::string fit(std::string line, size_t width) {
    line = line.substr(0, line.find('\n'));
    if (width < 2 || line.size() < width) return line;
    size_t cut = width - 1;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80) --cut;
    line.resize(cut);
    return line;
  }

  FILE* out_;
  int64_t start_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, ok_ = true;
  int lines_ = 0;
  State state_;
  std::thread thread_;
};

class JsonPrinter : public ProgressPrinter {
 public:
  explicit JsonPrinter(FILE* out) : out_(out) {}
  void write(const v1::SolveStatus& status) override {
    std::string line;
    google::protobuf::util::JsonPrintOptions opts;
    opts.add_whitespace = false;
    (void)google::protobuf::util::MessageToJsonString(status, &line, opts);
    std::lock_guard lock(mu_);
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }
  void finish(bool) override {}

 private:
  FILE* out_;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<ProgressPrinter> make_progress_printer(const std::string& mode, FILE* out) {
  std::string m = mode;
  if (m == "auto") m = isatty(fileno(out)) ? "tty" : "plain";
  if (m == "plain") return std::make_unique<PlainPrinter>(out);
  if (m == "tty") return std::make_unique<TtyPrinter>(out);
  if (m == "json" || m == "rawjson") return std::make_unique<JsonPrinter>(out);
  throw Error("unknown progress mode \"" + mode + "\"", "use --progress=auto, plain, tty or json");
}

std::string human_bytes(int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  // Past 999.995 of a unit the two decimals would round to "1000.00": show the next unit.
  while (u < 4 && v >= (u == 0 ? 1000 : 999.995)) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.2f%s", v, units[u]);
  return buf;
}

std::string human_seconds(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  return buf;
}

}  // namespace c2w::client
