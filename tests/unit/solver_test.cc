// The solver's promises, with small ops whose executions are counted: results are cached by
// op + input content (early cut-off), a vertex runs once when two solves need it at the same
// time, failures name the vertex and its recipe line, cycles and cancellation are handled.
#include "solver/solver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/error.h"
#include "base/hash.h"
#include "tests/support/process.h"

namespace {

using namespace c2w;
using solver::OpContext;

// A local op whose output is its `name` text followed by a changeable suffix (so tests can
// make "the same op" produce the same or different content); volatile like real sources.
struct SourceOp : solver::OpImpl {
  std::atomic<int> runs{0};
  std::string suffix = "";
  std::atomic<bool> slow_started{false}, slow_saw_cancel{false};
  cache::Record run(const v1::Op& op, OpContext& ctx) override {
    ++runs;
    if (op.local().name() == "fail") {  // fails once "slow" is under way, like a bad fetch
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!slow_started && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      throw Error("fetch failed");
    }
    if (op.local().name() == "slow") {  // like a kernel build: minutes unless stopped
      slow_started = true;
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!ctx.cancel.cancelled() && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      slow_saw_cancel = ctx.cancel.cancelled();
      ctx.cancel.throw_if_cancelled();
    }
    cache::Record r;
    r.content = ctx.store.put_blob(op.local().name() + suffix);
    return r;
  }
  bool is_volatile(const v1::Op&) const override { return true; }
};

// Concatenates its inputs; slow enough that concurrent solves overlap.
struct ConcatOp : solver::OpImpl {
  std::atomic<int> runs{0};
  std::atomic<bool> fail{false};
  std::string salt;
  std::string cache_salt(const v1::Op&) const override { return salt; }
  cache::Record run(const v1::Op&, OpContext& ctx) override {
    ++runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (fail) throw Error("boom");
    std::string out;
    for (auto& in : ctx.inputs) out += ctx.store.read_blob(in.record.content);
    ctx.progress.log("concatenated " + std::to_string(ctx.inputs.size()) + " inputs");
    cache::Record r;
    r.content = ctx.store.put_blob(out);
    return r;
  }
};

struct Graph {
  v1::Definition def;
  std::string add(const v1::Op& op, const std::string& description = "", int line = 0) {
    std::string bytes;
    op.SerializeToString(&bytes);
    def.add_ops(bytes);
    std::string d = xxh3_digest(bytes);
    auto& meta = (*def.mutable_metadata())[d];
    meta.set_description(description);
    meta.set_stage("s");
    if (line) {
      meta.mutable_location()->set_file("recipe");
      meta.mutable_location()->set_line(static_cast<uint32_t>(line));
    }
    def.mutable_result()->set_digest(d);
    return d;
  }
  std::string source(const std::string& name) {
    v1::Op op;
    op.mutable_local()->set_name(name);
    return add(op, "source " + name);
  }
  std::string concat(const std::vector<std::string>& inputs, int line = 0) {
    v1::Op op;
    op.mutable_pack()->set_target(v1::PackOp::TARGET_WASI);
    for (auto& i : inputs) op.add_inputs()->set_digest(i);
    return add(op, "concat", line);
  }
};

struct CountingSink : solver::ProgressSink {
  std::mutex mu;
  std::vector<v1::SolveStatus> events;
  void write(const v1::SolveStatus& s) override {
    std::lock_guard lock(mu);
    events.push_back(s);
  }
  int cached_vertices() {
    int n = 0;
    for (auto& e : events)
      for (auto& v : e.vertexes()) n += v.cached() && v.completed_unix_nanos() ? 1 : 0;
    return n;
  }
};

struct Fixture {
  c2w::testing::TempDir dir;
  cache::Store store{dir.path()};
  std::shared_ptr<SourceOp> source = std::make_shared<SourceOp>();
  std::shared_ptr<ConcatOp> concat = std::make_shared<ConcatOp>();
  solver::Solver make() {
    solver::OpRegistry ops;
    ops.add(v1::Op::kLocal, source);
    ops.add(v1::Op::kPack, concat);
    return solver::Solver(store, {}, std::move(ops));
  }
};

TEST(Solver, CachesByInputContentWithEarlyCutoff) {
  Fixture f;
  auto solver = f.make();
  Graph g;
  std::string a = g.source("a"), b = g.source("b");
  g.concat({a, b});
  CountingSink sink;
  solver::CancelToken cancel;
  auto r1 = solver.solve(g.def, sink, cancel);
  EXPECT_EQ(f.store.read_blob(r1.record.content), "ab");
  EXPECT_EQ(f.concat->runs, 1);

  CountingSink sink2;
  auto r2 = solver.solve(g.def, sink2, cancel);  // sources rerun (volatile), same content
  EXPECT_EQ(f.source->runs, 4);
  EXPECT_EQ(f.concat->runs, 1) << "same input content must hit the cache";
  EXPECT_EQ(r2.record.content, r1.record.content);
  EXPECT_EQ(sink2.cached_vertices(), 1);

  f.source->suffix = "!";
  CountingSink sink3;
  auto r3 = solver.solve(g.def, sink3, cancel);
  EXPECT_EQ(f.concat->runs, 2) << "changed input content must miss";
  EXPECT_EQ(f.store.read_blob(r3.record.content), "a!b!");
}

TEST(Solver, ACacheSaltIsPartOfTheKey) {
  Fixture f;
  Graph g;
  g.concat({g.source("a")});
  CountingSink sink;
  solver::CancelToken cancel;
  f.make().solve(g.def, sink, cancel);
  f.make().solve(g.def, sink, cancel);
  EXPECT_EQ(f.concat->runs, 1);
  f.concat->salt = "init=sha256:1";  // e.g. a c2w with another guest init
  f.make().solve(g.def, sink, cancel);
  EXPECT_EQ(f.concat->runs, 2) << "a new salt must miss";
  f.make().solve(g.def, sink, cancel);
  EXPECT_EQ(f.concat->runs, 2) << "the same salt must hit";
}

TEST(Solver, ConcurrentSolvesRunAVertexOnce) {
  Fixture f;
  auto solver = f.make();
  Graph g;
  g.concat({g.source("x"), g.source("y")});
  std::vector<std::thread> threads;
  std::vector<std::string> results(4);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      CountingSink sink;
      solver::CancelToken cancel;
      results[size_t(i)] = solver.solve(g.def, sink, cancel).record.content;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(f.concat->runs, 1);
  for (auto& r : results) EXPECT_EQ(r, results[0]);
}

TEST(Solver, FailuresNameTheVertexAndRecipeLine) {
  Fixture f;
  auto solver = f.make();
  f.concat->fail = true;
  Graph g;
  g.concat({g.source("p")}, 7);
  CountingSink sink;
  solver::CancelToken cancel;
  try {
    solver.solve(g.def, sink, cancel);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "concat (recipe:7): boom");
  }
  f.concat->fail = false;
  EXPECT_NO_THROW(solver.solve(g.def, sink, cancel)) << "a failure is not cached";
}

TEST(Solver, MissingOpCycleAndCancellation) {
  Fixture f;
  auto solver = f.make();
  CountingSink sink;
  solver::CancelToken cancel;

  Graph missing;
  v1::Op op;
  op.mutable_kernel()->set_arch("riscv64");
  missing.add(op, "kernel", 3);
  try {
    solver.solve(missing.def, sink, cancel);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel op of kernel (recipe:3) is not implemented"),
              std::string::npos)
        << e.what();
  }

  // A hand-made cycle: an op naming its own digest cannot exist, so use two ops naming each
  // other through a definition whose input digests were edited.
  Graph cyc;
  v1::Op a, b;
  a.mutable_local()->set_name("a");
  b.mutable_local()->set_name("b");
  std::string a_bytes, b_bytes;
  b.add_inputs()->set_digest("placeholder");
  b.SerializeToString(&b_bytes);
  a.add_inputs()->set_digest(xxh3_digest(b_bytes));
  a.SerializeToString(&a_bytes);
  v1::Op b2 = b;
  b2.mutable_inputs(0)->set_digest(xxh3_digest(a_bytes));
  std::string b2_bytes;
  b2.SerializeToString(&b2_bytes);
  cyc.def.add_ops(a_bytes);
  cyc.def.add_ops(b2_bytes);
  cyc.def.mutable_result()->set_digest(xxh3_digest(a_bytes));
  EXPECT_THROW(solver.solve(cyc.def, sink, cancel), Error)
      << "inconsistent or cyclic graphs are refused";

  Graph g;
  g.concat({g.source("c")});
  cancel.cancel();
  EXPECT_THROW(solver.solve(g.def, sink, cancel), Cancelled);
  EXPECT_EQ(f.concat->runs, 0);
}

TEST(Solver, AFailureStopsTheOtherVerticesAndIsWhatIsReported) {
  Fixture f;
  auto solver = f.make();
  Graph g;
  const std::string slow = g.source("slow"), fail = g.source("fail");
  g.concat({slow, fail});  // the slow input comes first: its cancellation must not be reported
  CountingSink sink;
  solver::CancelToken cancel;
  const auto start = std::chrono::steady_clock::now();
  try {
    solver.solve(g.def, sink, cancel);
    FAIL() << "no error";
  } catch (const c2w::Cancelled&) {
    FAIL() << "the cancellation of the slow vertex was reported instead of the failure";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fetch failed"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(f.source->slow_saw_cancel) << "the slow vertex kept running";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_FALSE(cancel.cancelled()) << "the caller's token is not touched";
}

}  // namespace
