// client/progress_printer.h: the json printer (every line parsed as JSON: vertices started,
// cached, completed and failed, logs, byte and item counters, lines whole under concurrent
// writers), the plain printer's BuildKit-style lines, the size and duration helpers, mode
// selection, and the tty printer driven in a real pseudo-terminal (openpty) whose output is
// replayed through a small terminal model to check what the screen shows after each redraw and
// at the end.
#include "client/progress_printer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"

namespace {

using c2w::client::human_bytes;
using c2w::client::human_seconds;
using c2w::client::make_progress_printer;
using c2w::client::ProgressPrinter;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;  // a fixed start time (unix nanos)
constexpr int64_t kMs = 1'000'000;

// ---- events as the solver sends them ----

c2w::v1::SolveStatus vertex(const std::string& digest, const std::string& name, int64_t started,
                            int64_t completed = 0, bool cached = false,
                            const std::string& error = "") {
  c2w::v1::SolveStatus s;
  auto* v = s.add_vertexes();
  v->set_digest(digest);
  v->set_name(name);
  v->set_started_unix_nanos(started);
  v->set_completed_unix_nanos(completed);
  v->set_cached(cached);
  v->set_error(error);
  return s;
}

c2w::v1::SolveStatus counter(const std::string& digest, const std::string& id,
                             const std::string& name, int64_t current, int64_t total,
                             bool bytes = true) {
  c2w::v1::SolveStatus s;
  auto* p = s.add_statuses();
  p->set_vertex(digest);
  p->set_id(id);
  p->set_name(name);
  p->set_current(current);
  p->set_total(total);
  p->set_unit(bytes ? c2w::v1::VertexProgress::UNIT_BYTES : c2w::v1::VertexProgress::UNIT_ITEMS);
  return s;
}

c2w::v1::SolveStatus logline(const std::string& digest, const std::string& data, int64_t at,
                             int stream = 1) {
  c2w::v1::SolveStatus s;
  auto* l = s.add_logs();
  l->set_vertex(digest);
  l->set_stream(stream);
  l->set_data(data);
  l->set_unix_nanos(at);
  return s;
}

// Collects what a printer writes to a FILE*.
class Capture {
 public:
  Capture() : file_(open_memstream(&buf_, &len_)) {}
  ~Capture() {
    std::fclose(file_);
    std::free(buf_);
  }
  FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, len_);
  }
  std::vector<std::string> lines() {
    std::vector<std::string> out;
    std::istringstream in(text());
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  FILE* file_;
};

// ---- helpers ----

TEST(HumanBytes, UsesDecimalUnits) {
  EXPECT_EQ(human_bytes(0), "0B");
  EXPECT_EQ(human_bytes(999), "999B");
  EXPECT_EQ(human_bytes(1000), "1.00kB");
  EXPECT_EQ(human_bytes(1536), "1.54kB");
  EXPECT_EQ(human_bytes(12'345'678), "12.35MB");
  EXPECT_EQ(human_bytes(1'000'000'000), "1.00GB");
  EXPECT_EQ(human_bytes(1'500'000'000'000), "1.50TB");
  EXPECT_EQ(human_bytes(2'000'000'000'000'000), "2000.00TB");  // TB is the largest unit
}

// The unit is chosen after rounding: 999,999 bytes are "1.00MB", not "1000.00kB".
TEST(HumanBytes, RoundsUpIntoTheNextUnit) {
  EXPECT_EQ(human_bytes(999'999), "1.00MB");
  EXPECT_EQ(human_bytes(999'994), "999.99kB");
  EXPECT_EQ(human_bytes(999), "999B");
}

TEST(HumanSeconds, OneDecimal) {
  EXPECT_EQ(human_seconds(0), "0.0s");
  EXPECT_EQ(human_seconds(1.234), "1.2s");
  EXPECT_EQ(human_seconds(1.25), "1.2s");  // printf rounding of the binary value
  EXPECT_EQ(human_seconds(61.96), "62.0s");
}

// ---- mode selection ----

TEST(MakeProgressPrinter, UnknownModeThrowsError) {
  Capture c;
  EXPECT_THROW(make_progress_printer("fancy", c.file()), c2w::Error);
  EXPECT_THROW(make_progress_printer("", c.file()), c2w::Error);
  EXPECT_THROW(make_progress_printer("JSON", c.file()), c2w::Error);
  try {
    make_progress_printer("fancy", c.file());
  } catch (const c2w::Error& e) {
    EXPECT_NE(std::string(e.what()).find("fancy"), std::string::npos) << e.what();
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST(MakeProgressPrinter, KnownModes) {
  for (const char* mode : {"plain", "json", "rawjson", "auto"}) {
    Capture c;
    auto p = make_progress_printer(mode, c.file());
    ASSERT_NE(p, nullptr) << mode;
    p->finish(true);
  }
}

TEST(MakeProgressPrinter, AutoIsPlainWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    auto p = make_progress_printer("auto", f);
    p->write(vertex("d1", "[image] FROM busybox", kT0));
    p->finish(true);
  }
  std::rewind(f);
  char line[256] = {};
  ASSERT_NE(std::fgets(line, sizeof line, f), nullptr);
  EXPECT_STREQ(line, "#1 [image] FROM busybox\n");
  std::fclose(f);
}

TEST(MakeProgressPrinter, RawjsonIsJson) {
  Capture c;
  auto p = make_progress_printer("rawjson", c.file());
  p->write(vertex("d1", "x", kT0));
  p->finish(true);
  EXPECT_EQ(json::parse(c.lines().at(0))["vertexes"][0]["digest"], "d1");
}

// ---- json ----

int64_t int64_of(const json& j) {
  // proto3 JSON writes int64 as a string; accept a number too.
  return j.is_string() ? std::stoll(j.get<std::string>()) : j.get<int64_t>();
}

std::string base64_decode(const std::string& in) {
  static const std::string chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (char c : in) {
    if (c == '=') break;
    const size_t pos = chars.find(c);
    if (pos == std::string::npos) ADD_FAILURE() << "not base64: " << in;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

std::vector<json> parse_lines(Capture& c) {
  std::vector<json> out;
  const std::string text = c.text();
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "last line unterminated";
  for (const std::string& l : c.lines()) {
    EXPECT_FALSE(l.empty()) << "empty line in json output";
    try {
      out.push_back(json::parse(l));
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON: " << l << " (" << e.what() << ")";
    }
  }
  return out;
}

TEST(JsonPrinter, OneObjectPerStatusWithEveryField) {
  Capture c;
  auto p = make_progress_printer("json", c.file());
  // Started, running with counters and logs, completed.
  p->write(vertex("sha256:aaa", "[image] FROM busybox", kT0));
  p->write(counter("sha256:aaa", "layer-1", "sha256:0123", 512, 2048));
  p->write(counter("sha256:aaa", "files", "files", 3, 10, /*bytes=*/false));
  p->write(logline("sha256:aaa", "fetching manifest\n", kT0 + 5 * kMs));
  p->write(logline("sha256:aaa", "warning: \xff binary\n", kT0 + 6 * kMs, 2));
  p->write(vertex("sha256:aaa", "[image] FROM busybox", 0, kT0 + 1500 * kMs));
  // Cached.
  p->write(vertex("sha256:bbb", "[cache] step", kT0, kT0, /*cached=*/true));
  // Failed.
  p->write(vertex("sha256:ccc", "[convert] RUN make", kT0 + 2 * kMs, kT0 + 9 * kMs, false,
                  "make exited with status 2"));
  p->finish(false);

  std::vector<json> lines = parse_lines(c);
  ASSERT_EQ(lines.size(), 8u) << c.text();
  for (const json& j : lines) ASSERT_TRUE(j.is_object()) << j;

  const json& started = lines[0]["vertexes"].at(0);
  EXPECT_EQ(started["digest"], "sha256:aaa");
  EXPECT_EQ(started["name"], "[image] FROM busybox");
  EXPECT_EQ(int64_of(started["startedUnixNanos"]), kT0);
  EXPECT_FALSE(started.contains("completedUnixNanos") &&
               int64_of(started["completedUnixNanos"]) != 0);
  EXPECT_FALSE(started.value("cached", false));
  EXPECT_EQ(started.value("error", ""), "");

  const json& bytes = lines[1]["statuses"].at(0);
  EXPECT_EQ(bytes["vertex"], "sha256:aaa");
  EXPECT_EQ(bytes["id"], "layer-1");
  EXPECT_EQ(bytes["name"], "sha256:0123");
  EXPECT_EQ(int64_of(bytes["current"]), 512);
  EXPECT_EQ(int64_of(bytes["total"]), 2048);
  EXPECT_EQ(bytes["unit"], "UNIT_BYTES");

  const json& items = lines[2]["statuses"].at(0);
  EXPECT_EQ(items["id"], "files");
  EXPECT_EQ(int64_of(items["current"]), 3);
  EXPECT_EQ(int64_of(items["total"]), 10);
  EXPECT_EQ(items.value("unit", "UNIT_ITEMS"), "UNIT_ITEMS");  // the default may be left out

  // Log data is a proto `bytes` field: base64 in JSON, so any byte survives.
  const json& l1 = lines[3]["logs"].at(0);
  EXPECT_EQ(l1["vertex"], "sha256:aaa");
  EXPECT_EQ(l1["stream"], 1);
  EXPECT_EQ(int64_of(l1["unixNanos"]), kT0 + 5 * kMs);
  EXPECT_EQ(base64_decode(l1["data"]), "fetching manifest\n");
  const json& l2 = lines[4]["logs"].at(0);
  EXPECT_EQ(l2["stream"], 2);
  EXPECT_EQ(base64_decode(l2["data"]), "warning: \xff binary\n");

  const json& done = lines[5]["vertexes"].at(0);
  EXPECT_EQ(done["digest"], "sha256:aaa");
  EXPECT_EQ(int64_of(done["completedUnixNanos"]), kT0 + 1500 * kMs);

  const json& cached = lines[6]["vertexes"].at(0);
  EXPECT_EQ(cached["digest"], "sha256:bbb");
  EXPECT_EQ(cached["cached"], true);
  EXPECT_EQ(int64_of(cached["startedUnixNanos"]), kT0);
  EXPECT_EQ(int64_of(cached["completedUnixNanos"]), kT0);

  const json& failed = lines[7]["vertexes"].at(0);
  EXPECT_EQ(failed["digest"], "sha256:ccc");
  EXPECT_EQ(failed["error"], "make exited with status 2");
  EXPECT_EQ(int64_of(failed["completedUnixNanos"]), kT0 + 9 * kMs);
}

TEST(JsonPrinter, KeepsEverythingOfAStatusOnOneLine) {
  Capture c;
  auto p = make_progress_printer("json", c.file());
  c2w::v1::SolveStatus s = vertex("d1", "one", kT0);
  auto* v2 = s.add_vertexes();
  v2->set_digest("d2");
  v2->set_name("two\nlines");  // a newline in a value must not split the JSON line
  v2->add_inputs("d1");
  *s.add_statuses() = counter("d1", "c", "c", 1, 2).statuses(0);
  *s.add_logs() = logline("d1", "a\nb\n", kT0).logs(0);
  p->write(s);
  p->finish(true);
  std::vector<json> lines = parse_lines(c);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0]["vertexes"].size(), 2u);
  EXPECT_EQ(lines[0]["vertexes"][1]["name"], "two\nlines");
  EXPECT_EQ(lines[0]["vertexes"][1]["inputs"], json::array({"d1"}));
  EXPECT_EQ(lines[0]["statuses"].size(), 1u);
  EXPECT_EQ(base64_decode(lines[0]["logs"][0]["data"]), "a\nb\n");
}

TEST(JsonPrinter, EmptyStatusIsAnEmptyObject) {
  Capture c;
  auto p = make_progress_printer("json", c.file());
  p->write(c2w::v1::SolveStatus());
  std::vector<json> lines = parse_lines(c);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].is_object());
  EXPECT_TRUE(lines[0].empty()) << lines[0];
}

TEST(JsonPrinter, FinishAddsNothingThatIsNotJson) {
  Capture c;
  auto p = make_progress_printer("json", c.file());
  p->write(vertex("d", "x", kT0));
  p->finish(true);
  p.reset();
  EXPECT_EQ(parse_lines(c).size(), 1u);
}

TEST(JsonPrinter, LinesStayWholeWithConcurrentWriters) {
  Capture c;
  auto p = make_progress_printer("json", c.file());
  constexpr int kThreads = 4, kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        p->write(logline("v" + std::to_string(t), std::string(300, 'a' + t) + "\n", kT0 + i));
    });
  for (auto& t : threads) t.join();
  p->finish(true);
  std::vector<json> lines = parse_lines(c);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kThreads * kEach));
  std::vector<int> per(kThreads);
  for (const json& j : lines) {
    const std::string v = j["logs"][0]["vertex"];
    const int t = v[1] - '0';
    ++per.at(t);
    EXPECT_EQ(base64_decode(j["logs"][0]["data"]), std::string(300, 'a' + t) + "\n");
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(per[t], kEach);
}

TEST(JsonPrinter, ShowsWhatVertexProgressSends) {
  // The path ops use: solver::VertexProgress adds the newline and the time.
  Capture c;
  auto p = make_progress_printer("json", c.file());
  c2w::solver::VertexProgress vp(*p, "sha256:op");
  vp.log("compiling");
  vp.counter("dl", "layer", 1000, 1000);
  p->finish(true);
  std::vector<json> lines = parse_lines(c);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["logs"][0]["vertex"], "sha256:op");
  EXPECT_EQ(base64_decode(lines[0]["logs"][0]["data"]), "compiling\n");
  EXPECT_GT(int64_of(lines[0]["logs"][0]["unixNanos"]), 0);
  EXPECT_EQ(lines[1]["statuses"][0]["unit"], "UNIT_BYTES");
  EXPECT_EQ(int64_of(lines[1]["statuses"][0]["current"]), 1000);
}

// ---- plain ----

TEST(PlainPrinter, BuildKitStyleLines) {
  Capture c;
  auto p = make_progress_printer("plain", c.file());
  p->write(vertex("a", "[image] FROM busybox", kT0));
  p->write(vertex("a", "[image] FROM busybox", kT0));  // repeated: no second line
  p->write(logline("a", "resolving docker.io/library/busybox\n", kT0 + 250 * kMs));
  p->write(counter("a", "l1", "layer", 500'000, 1'000'000));  // not done: no line
  p->write(counter("a", "l1", "layer", 1'000'000, 1'000'000));
  p->write(counter("a", "f", "files", 10, 10, /*bytes=*/false));
  p->write(counter("a", "u", "unknown", 10, 0));  // total unknown: never "done"
  p->write(vertex("a", "[image] FROM busybox", kT0, kT0 + 1500 * kMs));
  p->write(vertex("b", "[cache] step", kT0 + 2 * kMs, kT0 + 2 * kMs, /*cached=*/true));
  p->write(vertex("c", "[convert] RUN make", kT0 + 3 * kMs));
  p->write(logline("c", "make: *** Error 2\n", kT0 + 3 * kMs + 1500 * kMs, 2));
  p->write(vertex("c", "[convert] RUN make", 0, kT0 + 5000 * kMs, false, "exit status 2"));
  p->finish(false);
  EXPECT_EQ(c.lines(), (std::vector<std::string>{
                           "#1 [image] FROM busybox",
                           "#1 0.250 resolving docker.io/library/busybox",
                           "#1 layer 1.00MB / 1.00MB done",
                           "#1 files 10 / 10 done",
                           "#1 DONE 1.5s",
                           "#2 [cache] step",
                           "#2 CACHED",
                           "#3 [convert] RUN make",
                           "#3 1.500 make: *** Error 2",
                           "#3 ERROR: exit status 2",
                       }))
      << c.text();
}

TEST(PlainPrinter, SolverStyleCachedVertex) {
  // The solver sends "started" and later "completed, cached" with no start time.
  Capture c;
  auto p = make_progress_printer("plain", c.file());
  p->write(vertex("k", "[kernel] build", kT0));
  p->write(vertex("k", "[kernel] build", 0, kT0 + 10 * kMs, /*cached=*/true));
  p->write(vertex("k", "[kernel] build", 0, kT0 + 20 * kMs, true));  // repeated completion
  EXPECT_EQ(c.lines(), (std::vector<std::string>{"#1 [kernel] build", "#1 CACHED"}));
}

TEST(PlainPrinter, NumbersVerticesInOrderOfFirstAppearance) {
  Capture c;
  auto p = make_progress_printer("plain", c.file());
  p->write(vertex("x", "first", kT0));
  p->write(vertex("y", "second", kT0));
  p->write(logline("x", "from first\n", kT0));
  p->write(vertex("z", "third", kT0));
  p->write(vertex("y", "second", kT0, kT0 + 100 * kMs));
  EXPECT_EQ(c.lines(), (std::vector<std::string>{"#1 first", "#2 second", "#1 0.000 from first",
                                                 "#3 third", "#2 DONE 0.1s"}));
}

TEST(PlainPrinter, WritesEachEventAtOnce) {
  // Flushed per status: a reader of the stream sees progress while the build runs.
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  auto p = make_progress_printer("plain", f);
  p->write(vertex("a", "[image] FROM busybox", kT0));
  const int fd = ::dup(fileno(f));
  char buf[128] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  ::close(fd);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "#1 [image] FROM busybox\n");
  p->finish(true);
  std::fclose(f);
}

TEST(PlainPrinter, ConcurrentWritersKeepLinesWhole) {
  Capture c;
  auto p = make_progress_printer("plain", c.file());
  for (int t = 0; t < 4; ++t) p->write(vertex("v" + std::to_string(t), "v", kT0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i)
        p->write(logline("v" + std::to_string(t), std::string(100, 'a' + t) + "\n", kT0));
    });
  for (auto& t : threads) t.join();
  const std::regex line("#([1-4]) 0\\.000 ([a-d])\\2{99}");
  std::vector<std::string> lines = c.lines();
  ASSERT_EQ(lines.size(), 4u + 800u);
  for (size_t i = 4; i < lines.size(); ++i) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(lines[i], m, line)) << lines[i];
    EXPECT_EQ(m[1].str()[0] - '1', m[2].str()[0] - 'a') << lines[i];
  }
}

// ProgressPrinter::finish: the plain printer adds nothing (BuildKit's plain mode neither; c2w's
// own last line follows), only the tty view ends with FINISHED / FAILED.
TEST(PlainPrinter, FinishAddsNothing) {
  Capture c;
  auto p = make_progress_printer("plain", c.file());
  p->write(vertex("a", "x", kT0, kT0 + kMs));
  const size_t before = c.lines().size();
  p->finish(false);
  EXPECT_EQ(c.lines().size(), before) << c.text();
}

// ---- tty, in a real pseudo-terminal ----

// Enough of a VT100 to replay the printer's output: printable characters with autowrap at the
// terminal's width, CR, LF, backspace, CSI cursor up/down/left/right/column, erase in line and
// display, SGR and cursor show/hide. Anything else is recorded as unknown.
class Screen {
 public:
  Screen(int width, int height) : width_(width), height_(height) {}

  void feed(const std::string& data) {
    for (size_t i = 0; i < data.size(); ++i) {
      const unsigned char ch = static_cast<unsigned char>(data[i]);
      if (ch == 0x1b) {
        i = escape(data, i);
      } else if (ch == '\r') {
        col_ = 0;
      } else if (ch == '\n') {
        down(1);
      } else if (ch == '\b') {
        col_ = std::max(0, std::min(col_, width_ - 1) - 1);
      } else if (ch == '\t') {
        col_ = std::min(width_ - 1, (col_ / 8 + 1) * 8);
      } else if (ch >= 0x20) {
        if (col_ >= width_) {  // pending wrap
          col_ = 0;
          down(1);
        }
        std::string& r = row(row_);
        if (static_cast<int>(r.size()) <= col_) r.resize(static_cast<size_t>(col_) + 1, ' ');
        r[static_cast<size_t>(col_)] = static_cast<char>(ch);
        ++col_;
      } else {
        unknown_.push_back(std::string(1, static_cast<char>(ch)));
      }
    }
  }

  // The rows, trailing blanks removed, without empty rows at the bottom.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (std::string r : rows_) {
      r.erase(r.find_last_not_of(' ') + 1);
      out.push_back(r);
    }
    while (!out.empty() && out.back().empty()) out.pop_back();
    return out;
  }
  std::string dump() const {
    std::string s;
    for (const std::string& l : lines()) s += "|" + l + "\n";
    return s;
  }
  int cursor_row() const { return row_; }
  int cursor_col() const { return col_; }
  bool cursor_visible() const { return cursor_visible_; }
  bool attributes_reset() const { return attributes_reset_; }
  const std::vector<std::string>& unknown() const { return unknown_; }

 private:
  std::string& row(int r) {
    while (static_cast<int>(rows_.size()) <= r) rows_.emplace_back();
    return rows_[static_cast<size_t>(r)];
  }
  int top() const { return std::max(0, static_cast<int>(rows_.size()) - height_); }
  void down(int n) {
    row_ += n;
    row(row_);
  }

  size_t escape(const std::string& d, size_t i) {
    if (i + 1 >= d.size() || d[i + 1] != '[') {
      unknown_.push_back(d.substr(i, 2));
      return i + 1;
    }
    size_t j = i + 2;
    std::string params;
    while (j < d.size() &&
           (std::isdigit(static_cast<unsigned char>(d[j])) || d[j] == ';' || d[j] == '?'))
      params += d[j++];
    if (j >= d.size()) {
      unknown_.push_back(d.substr(i));
      return j;
    }
    const char final = d[j];
    const int n = params.empty() || params[0] == '?' ? 1 : std::max(1, std::atoi(params.c_str()));
    const int p0 = params.empty() || params[0] == '?' ? 0 : std::atoi(params.c_str());
    col_ = std::min(col_, width_ - 1);  // any cursor control ends a pending wrap
    switch (final) {
      case 'A':
        row_ = std::max(top(), row_ - n);
        break;
      case 'B':
        down(n);
        break;
      case 'C':
        col_ = std::min(width_ - 1, col_ + n);
        break;
      case 'D':
        col_ = std::max(0, col_ - n);
        break;
      case 'G':
        col_ = std::min(width_ - 1, n - 1);
        break;
      case 'K': {
        std::string& r = row(row_);
        if (p0 == 0 && static_cast<int>(r.size()) > col_) r.resize(static_cast<size_t>(col_));
        if (p0 == 1)
          for (int k = 0; k <= col_ && k < static_cast<int>(r.size()); ++k)
            r[static_cast<size_t>(k)] = ' ';
        if (p0 == 2) r.clear();
        break;
      }
      case 'J':
        if (p0 == 0) {
          std::string& r = row(row_);
          if (static_cast<int>(r.size()) > col_) r.resize(static_cast<size_t>(col_));
          rows_.resize(static_cast<size_t>(row_) + 1);
        } else {
          unknown_.push_back("\\e[" + params + "J");
        }
        break;
      case 'm': {
        attributes_reset_ = params.empty() || params == "0";
        break;
      }
      case 'h':
      case 'l':
        if (params == "?25")
          cursor_visible_ = final == 'h';
        else
          unknown_.push_back("\\e[" + params + final);
        break;
      default:
        unknown_.push_back("\\e[" + params + final);
    }
    return j;
  }

  int width_, height_;
  std::vector<std::string> rows_ = std::vector<std::string>(1);
  int row_ = 0, col_ = 0;
  bool cursor_visible_ = true, attributes_reset_ = true;
  std::vector<std::string> unknown_;
};

// A pseudo-terminal of the given size; its slave end as a FILE* for the printer, its master end
// drained by a thread.
class Pty {
 public:
  Pty(int cols, int rows) : cols_(cols), rows_(rows) {
    winsize ws{};
    ws.ws_col = static_cast<unsigned short>(cols);
    ws.ws_row = static_cast<unsigned short>(rows);
    int master = -1, slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) {
      ADD_FAILURE() << "openpty failed";
      return;
    }
    master_ = master;
    out_ = ::fdopen(slave, "w");
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        pollfd p{master_, POLLIN, 0};
        if (::poll(&p, 1, 20) != 1) continue;
        const ssize_t n = ::read(master_, buf, sizeof buf);
        if (n <= 0) break;
        std::lock_guard lock(mu_);
        data_.append(buf, static_cast<size_t>(n));
      }
    });
  }
  ~Pty() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    if (out_) std::fclose(out_);
    if (master_ >= 0) ::close(master_);
  }
  FILE* out() { return out_; }
  std::string data() {
    std::lock_guard lock(mu_);
    return data_;
  }
  Screen screen() {
    Screen s(cols_, rows_);
    s.feed(data());
    return s;
  }
  // Waits until the output has stopped changing for `quiet`.
  void settle(std::chrono::milliseconds quiet = 150ms) {
    size_t last = data().size();
    for (int i = 0; i < 100; ++i) {
      std::this_thread::sleep_for(quiet);
      const size_t now = data().size();
      if (now == last) return;
      last = now;
    }
  }
  // Waits (up to 3 s) for `pred(screen())`.
  template <typename Pred>
  bool wait_for(Pred pred) {
    for (int i = 0; i < 150; ++i) {
      if (pred(screen())) return true;
      std::this_thread::sleep_for(20ms);
    }
    return pred(screen());
  }

 private:
  int cols_, rows_;
  int master_ = -1;
  FILE* out_ = nullptr;
  std::thread reader_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string data_;
};

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

size_t count_lines(const Screen& s, const std::string& prefix) {
  size_t n = 0;
  for (const std::string& l : s.lines()) n += l.starts_with(prefix);
  return n;
}

bool has_line(const Screen& s, const std::regex& re) {
  for (const std::string& l : s.lines())
    if (std::regex_match(l, re)) return true;
  return false;
}

void expect_sane_end(Pty& pty) {
  const Screen s = pty.screen();
  EXPECT_TRUE(s.unknown().empty()) << "unexpected control sequence " << s.unknown().front();
  EXPECT_EQ(s.cursor_col(), 0) << "cursor not at the start of a line";
  EXPECT_EQ(s.cursor_row(), static_cast<int>(s.lines().size())) << "cursor not below the view\n"
                                                                << s.dump();
  EXPECT_TRUE(s.cursor_visible()) << "cursor left hidden";
  EXPECT_TRUE(s.attributes_reset()) << "colours or attributes left on";
  // Nothing more is drawn once finish() returned.
  const size_t before = pty.data().size();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(pty.data().size(), before) << "output after finish()";
}

TEST(TtyPrinter, DrawsRedrawsAndEndsWithTheFinalView) {
  Pty pty(120, 40);
  ASSERT_NE(pty.out(), nullptr);
  auto p = make_progress_printer("tty", pty.out());
  const int64_t t0 = c2w::solver::now_unix_nanos();

  // A running download with two counters and a log line.
  p->write(vertex("a", "[image] FROM busybox", t0));
  p->write(counter("a", "l1", "sha256:0123", 500'000, 1'000'000));
  p->write(counter("a", "f", "files", 3, 10, /*bytes=*/false));
  p->write(logline("a", "fetching manifest\n", t0));
  const std::regex running(" => \\[image\\] FROM busybox  \\d+\\.\\ds");
  ASSERT_TRUE(pty.wait_for([&](const Screen& s) {
    return has_line(s, running) && has_line(s, std::regex("   sha256:0123 500.00kB / 1.00MB")) &&
           has_line(s, std::regex("   files 3 / 10")) &&
           has_line(s, std::regex("   > fetching manifest"));
  })) << pty.screen().dump();
  {
    const Screen s = pty.screen();
    EXPECT_TRUE(std::regex_match(s.lines().at(0), std::regex("\\[\\+\\] Building \\d+\\.\\ds")))
        << s.dump();
  }

  // Redrawn in place: more frames, still one view.
  const size_t frames = count(pty.data(), "[+] Building");
  p->write(counter("a", "l1", "sha256:0123", 750'000, 1'000'000));
  ASSERT_TRUE(pty.wait_for([&](const Screen& s) {
    return has_line(s, std::regex("   sha256:0123 750.00kB / 1.00MB"));
  })) << pty.screen().dump();
  std::this_thread::sleep_for(250ms);
  EXPECT_GE(count(pty.data(), "[+] Building"), frames + 2) << "not redrawn ten times a second";
  EXPECT_NE(pty.data().find("\x1b[1A"), std::string::npos);
  {
    const Screen s = pty.screen();
    EXPECT_EQ(count_lines(s, "[+] Building"), 1u) << s.dump();
    EXPECT_EQ(count_lines(s, " => [image] FROM busybox"), 1u) << s.dump();
    EXPECT_EQ(count_lines(s, "   sha256:0123"), 1u) << s.dump();
  }

  // Then: the download completes, a cached vertex, a vertex that fails with a log line, and a
  // vertex known only from a log (never started: not shown).
  p->write(counter("a", "l1", "sha256:0123", 1'000'000, 1'000'000));
  p->write(vertex("a", "[image] FROM busybox", 0, t0 + 1200 * kMs));
  p->write(vertex("b", "[cache] unpack", t0, t0, /*cached=*/true));
  p->write(vertex("c", "[convert] RUN make", t0 + 100 * kMs));
  p->write(logline("c", "make: *** [all] Error 2\n", t0 + 200 * kMs, 2));
  p->write(vertex("c", "[convert] RUN make", 0, t0 + 400 * kMs, false, "exit status 2"));
  p->write(logline("ghost", "no vertex\n", t0));
  p->finish(false);
  pty.settle();

  const Screen s = pty.screen();
  const std::vector<std::string> lines = s.lines();
  ASSERT_EQ(lines.size(), 6u) << s.dump();
  EXPECT_TRUE(std::regex_match(lines[0], std::regex("\\[\\+\\] Building \\d+\\.\\ds FAILED")))
      << s.dump();
  EXPECT_EQ(lines[1], " => [image] FROM busybox  1.2s");
  EXPECT_EQ(lines[2], " => [cache] unpack  CACHED");
  EXPECT_EQ(lines[3], " => [convert] RUN make  ERROR");
  EXPECT_EQ(lines[4], "   > make: *** [all] Error 2");
  EXPECT_EQ(lines[5], "   ERROR: exit status 2");
  expect_sane_end(pty);
}

TEST(TtyPrinter, FinishOkSaysFinished) {
  Pty pty(100, 30);
  auto p = make_progress_printer("tty", pty.out());
  const int64_t t0 = c2w::solver::now_unix_nanos();
  p->write(vertex("a", "[pack] out.wasm", t0, t0 + 300 * kMs));
  p->finish(true);
  pty.settle();
  const Screen s = pty.screen();
  ASSERT_EQ(s.lines().size(), 2u) << s.dump();
  EXPECT_TRUE(std::regex_match(s.lines()[0], std::regex("\\[\\+\\] Building \\d+\\.\\ds FINISHED")))
      << s.dump();
  EXPECT_EQ(s.lines()[1], " => [pack] out.wasm  0.3s");
  expect_sane_end(pty);
}

TEST(TtyPrinter, DestroyedWithoutFinishStillEndsCleanly) {
  Pty pty(100, 30);
  {
    auto p = make_progress_printer("tty", pty.out());
    p->write(vertex("a", "[image] FROM busybox", c2w::solver::now_unix_nanos()));
    std::this_thread::sleep_for(150ms);
  }  // must not hang: the redraw thread stops
  pty.settle();
  const Screen s = pty.screen();
  EXPECT_EQ(count_lines(s, "[+] Building"), 1u) << s.dump();
  EXPECT_TRUE(s.lines().at(0).ends_with("FINISHED")) << s.dump();
  expect_sane_end(pty);
}

TEST(TtyPrinter, ManyVerticesRedrawWithoutLeftovers) {
  Pty pty(120, 60);
  auto p = make_progress_printer("tty", pty.out());
  const int64_t t0 = c2w::solver::now_unix_nanos();
  for (int i = 0; i < 10; ++i) {
    const std::string d = "v" + std::to_string(i);
    p->write(vertex(d, "[step] number " + std::to_string(i), t0));
    p->write(logline(d, "log of " + std::to_string(i) + "\n", t0));
    std::this_thread::sleep_for(30ms);  // frames with 1, 2, ... vertices
  }
  for (int i = 0; i < 10; ++i) {
    const std::string d = "v" + std::to_string(i);
    p->write(vertex(d, "[step] number " + std::to_string(i), 0, t0 + 100 * kMs));
    std::this_thread::sleep_for(30ms);  // the view shrinks as logs go away
  }
  p->finish(true);
  pty.settle();
  const Screen s = pty.screen();
  ASSERT_EQ(s.lines().size(), 11u) << s.dump();
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(s.lines()[static_cast<size_t>(i) + 1],
              " => [step] number " + std::to_string(i) + "  0.1s");
  expect_sane_end(pty);
}

TEST(TtyPrinter, AutoModeOnATerminalIsTheLiveView) {
  Pty pty(100, 30);
  auto p = make_progress_printer("auto", pty.out());
  p->write(vertex("a", "[image] FROM busybox", c2w::solver::now_unix_nanos()));
  p->finish(true);
  pty.settle();
  EXPECT_NE(pty.data().find("[+] Building"), std::string::npos) << pty.data();
  EXPECT_EQ(pty.data().find("#1 "), std::string::npos) << "plain output on a terminal";
}

// The tty printer moves the cursor up one row per line it drew, so a line wider than the
// terminal (several rows) would leave the top rows of each frame behind: lines are cut to the
// terminal's width, and the screen holds one "[+] Building" header at the end.
TEST(TtyPrinter, LinesWiderThanTheTerminalDoNotLeaveStaleRows) {
  Pty pty(40, 30);
  auto p = make_progress_printer("tty", pty.out());
  const int64_t t0 = c2w::solver::now_unix_nanos();
  const std::string name = "[convert] RUN make -j2 ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu-";
  p->write(vertex("a", name, t0));
  std::this_thread::sleep_for(350ms);  // several redraws
  p->write(vertex("a", name, 0, t0 + 500 * kMs));
  p->finish(true);
  pty.settle();
  const Screen s = pty.screen();
  EXPECT_EQ(count_lines(s, "[+] Building"), 1u) << s.dump();
  EXPECT_TRUE(s.lines().at(0).starts_with("[+] Building")) << s.dump();
  expect_sane_end(pty);
}

}  // namespace
