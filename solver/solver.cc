#include "solver/solver.h"

#include <thread>

#include "base/error.h"
#include "base/hash.h"
#include "graph/digest.h"

namespace c2w::solver {

namespace {

std::string kind_name(v1::Op::KindCase kind) {
  return std::string(graph::op_kind_name(kind));
}

}  // namespace

void CancelToken::throw_if_cancelled() const {
  if (cancelled()) throw Cancelled();
}

void OpRegistry::add(v1::Op::KindCase kind, std::shared_ptr<OpImpl> impl) {
  impls_[kind] = std::move(impl);
}

OpImpl* OpRegistry::find(v1::Op::KindCase kind) const {
  auto it = impls_.find(kind);
  return it == impls_.end() ? nullptr : it->second.get();
}

struct Solver::Solve {
  Solve(const v1::Definition& d, ProgressSink& p, const CancelToken& c)
      : def(d), progress(p), cancel(c) {}
  const v1::Definition& def;
  std::map<std::string, v1::Op> ops;
  ProgressSink& progress;
  const CancelToken& cancel;
  // What the solve's ops see: cancelled by the caller, or by the first vertex that fails, so a
  // failed fetch does not leave a kernel build running for minutes.
  CancelToken stop{&cancel};
  std::mutex mu;
  std::map<std::string, std::shared_future<InputValue>> vertices;  // by op digest
  std::atomic<size_t> executed{0}, cached{0};
  PerSolve per;  // no_cache already merged with the solver's own option
  std::map<std::string, cache::Record> records;  // by cache key, guarded by mu

  void used(const std::string& key, const cache::Record& record) {
    std::lock_guard lock(mu);
    records[key] = record;
  }

  std::string name(const std::string& digest) const {
    auto it = def.metadata().find(digest);
    if (it != def.metadata().end() && !it->second.description().empty())
      return it->second.description();
    return kind_name(ops.at(digest).kind_case()) + " " + digest.substr(0, 17);
  }

  // "recipe:4" style location suffix for errors, when the frontend recorded one.
  std::string where(const std::string& digest) const {
    auto it = def.metadata().find(digest);
    if (it == def.metadata().end() || !it->second.has_location()) return "";
    const auto& loc = it->second.location();
    return " (" + loc.file() + ":" + std::to_string(loc.line()) + ")";
  }

  void emit(const std::string& digest, bool started, bool completed, bool was_cached,
            const std::string& error = "") {
    v1::SolveStatus st;
    v1::Vertex* v = st.add_vertexes();
    v->set_digest(digest);
    v->set_name(name(digest));
    for (const auto& in : ops.at(digest).inputs()) v->add_inputs(in.digest());
    v->set_cached(was_cached);
    int64_t now = now_unix_nanos();
    if (started) v->set_started_unix_nanos(now);
    if (completed) v->set_completed_unix_nanos(now);
    v->set_error(error);
    progress.write(st);
  }
};

Solver::Solver(cache::Store& store, SolveOptions options, OpRegistry ops)
    : store_(store), options_(std::move(options)), ops_(std::move(ops)) {
  unsigned n = options_.parallelism ? options_.parallelism
                                    : std::max(1u, std::thread::hardware_concurrency());
  slots_ = std::make_unique<std::counting_semaphore<64>>(std::min(n, 64u));
}

void Solver::check_ops(const v1::Definition& def) const {
  for (const std::string& bytes : def.ops()) {
    v1::Op op;
    if (!op.ParseFromString(bytes) || ops_.find(op.kind_case())) continue;
    std::string where;
    auto meta = def.metadata().find(xxh3_digest(bytes));
    if (meta != def.metadata().end()) {
      where = " (stage " + meta->second.stage();
      if (meta->second.has_location())
        where += ", " + meta->second.location().file() + ":" +
                 std::to_string(meta->second.location().line());
      where += ")";
    }
    throw Error("this build needs the " + kind_name(op.kind_case()) + " op" + where +
                    ", which this version of c2w does not have yet",
                "export what it can build with --target STAGE --output type=local,dest=DIR "
                "(the default recipe has image: the unpacked rootfs, rootfs: the initramfs, "
                "kernel: the Image)");
  }
}

SolveResult Solver::solve(const v1::Definition& def, ProgressSink& progress,
                          const CancelToken& cancel, const PerSolve& per_solve) {
  Solve s(def, progress, cancel);
  s.per = per_solve;
  s.per.no_cache = per_solve.no_cache || options_.no_cache;
  for (const std::string& bytes : def.ops()) {
    v1::Op op;
    if (!op.ParseFromString(bytes))
      throw Error("the build graph holds an op that cannot be parsed");
    s.ops.emplace(xxh3_digest(bytes), std::move(op));
  }
  for (const auto& [digest, op] : s.ops)
    for (const auto& in : op.inputs())
      if (!s.ops.count(in.digest()))
        throw Error("the build graph is inconsistent: op " + digest + " names unknown input " +
                    in.digest());
  // A cycle would deadlock the recursive solve: reject it up front.
  std::map<std::string, int> state;  // 1 visiting, 2 done
  std::function<void(const std::string&)> visit = [&](const std::string& d) {
    if (state[d] == 2) return;
    if (state[d] == 1) throw Error("the build graph has a cycle through " + s.name(d));
    state[d] = 1;
    for (const auto& in : s.ops.at(d).inputs()) visit(in.digest());
    state[d] = 2;
  };
  const std::string& result = def.result().digest();
  if (!s.ops.count(result)) throw Error("the build graph has no result op");
  visit(result);

  cache::FileLock in_use = store_.use();
  InputValue value = make_local(s, solve_vertex(s, result));
  SolveResult out;
  out.record = value.record;
  out.path = value.path;
  out.executed = s.executed;
  out.cached = s.cached;
  out.records = std::move(s.records);
  return out;
}

InputValue Solver::materialize(const cache::Record& record) {
  InputValue v{record, {}, {}, {}};
  auto path = record.kind == cache::Record::Kind::kTree ? store_.tree(record.content)
                                                        : store_.blob(record.content);
  if (!path)
    throw Error("cache entry " + record.content + " vanished or is corrupt", "run the build again");
  v.path = *path;
  return v;
}

InputValue Solver::make_local(Solve& s, const InputValue& value) {
  if (value.shared_key.empty()) {
    if (!value.path.empty()) return value;
    InputValue local = materialize(value.record);
    local.vertex = value.vertex;
    return local;
  }
  InputValue local;
  VertexProgress vp(s.progress, value.vertex);
  bool pulled = false;
  try {
    pulled = s.per.shared->pull(value.shared_key, value.record, store_, vp);
    if (!pulled)
      vp.log("the shared cache holds the record of " + value.record.content +
             ", not its files: running the step to make them");
  } catch (const Cancelled&) {
    throw;
  } catch (const std::exception& e) {
    // Refused content is never used: the vertex runs as if the shared cache had missed.
    vp.log(std::string("shared cache not used: ") + e.what() + "; running the step instead", 2);
  }
  if (pulled) {
    local = materialize(value.record);
  } else {
    local = rebuild(s, value.vertex, value.shared_key);
    if (local.path.empty()) local = materialize(local.record);
    s.used(value.shared_key, local.record);
    if (local.record.content != value.record.content)
      vp.log("warning: the step made " + local.record.content + ", the shared cache says " +
                 value.record.content + " (is the step reproducible?)",
             2);
  }
  local.vertex = value.vertex;
  return local;
}

InputValue Solver::rebuild(Solve& s, const std::string& digest, const std::string& key) {
  const v1::Op& op = s.ops.at(digest);
  std::vector<InputValue> inputs;
  for (const auto& in : op.inputs()) inputs.push_back(solve_vertex(s, in.digest()));  // settled
  return execute(s, digest, op, key, std::move(inputs));
}

InputValue Solver::solve_vertex(Solve& s, const std::string& digest) {
  std::promise<InputValue> promise;
  std::shared_future<InputValue> existing;
  {
    std::lock_guard lock(s.mu);
    auto it = s.vertices.find(digest);
    if (it != s.vertices.end())
      existing = it->second;
    else
      s.vertices.emplace(digest, promise.get_future().share());
  }
  if (existing.valid()) return existing.get();  // another input path already solves it
  try {
    s.stop.throw_if_cancelled();
    const v1::Op& op = s.ops.at(digest);
    std::vector<std::future<InputValue>> pending;
    for (const auto& in : op.inputs())
      pending.push_back(
          std::async(std::launch::async, [&, d = in.digest()] { return solve_vertex(s, d); }));
    std::vector<InputValue> inputs;
    std::exception_ptr first_error, cancelled;
    for (auto& f : pending) {
      try {
        inputs.push_back(f.get());
      } catch (const Cancelled&) {
        if (!cancelled) cancelled = std::current_exception();
      } catch (...) {
        if (!first_error) first_error = std::current_exception();
      }
    }
    // The failure that stopped the others is the one to report, not their cancellation.
    if (first_error) std::rethrow_exception(first_error);
    if (cancelled) std::rethrow_exception(cancelled);

    OpImpl* impl = ops_.find(op.kind_case());
    if (!impl)
      throw Error(
          "the " + kind_name(op.kind_case()) + " op of " + s.name(digest) + s.where(digest) +
              " is not implemented yet",
          "this version of c2w cannot run that stage; export an earlier one with --target STAGE "
          "--output type=local,dest=DIR");
    std::string salt = impl->cache_salt(op);
    std::vector<std::string_view> parts = {"c2w-solver-v1", digest, salt};
    for (const InputValue& in : inputs) parts.push_back(in.record.content);
    std::string key = xxh3_key(parts);
    bool cacheable = !impl->is_volatile(op) && !s.per.no_cache;
    if (cacheable) {
      if (auto hit = store_.get_action(key)) {
        s.emit(digest, true, true, true);
        ++s.cached;
        s.used(key, *hit);
        InputValue v{*hit, {}, digest, {}};
        promise.set_value(v);
        return v;
      }
      // Missing here, present in the shared cache: a hit whose content is pulled when needed.
      if (s.per.shared) {
        if (auto hit = s.per.shared->lookup(key)) {
          s.emit(digest, true, true, true);
          ++s.cached;
          s.used(key, *hit);
          InputValue v{*hit, {}, digest, key};
          promise.set_value(v);
          return v;
        }
      }
    }
    // One execution per key in this process: a concurrent solve that needs it waits for it.
    std::shared_future<InputValue> shared;
    std::promise<InputValue> exec_promise;
    bool owner = false;
    {
      std::lock_guard lock(mu_);
      auto it = in_flight_.find(key);
      if (it != in_flight_.end() && cacheable) {
        shared = it->second;
      } else {
        shared = exec_promise.get_future().share();
        if (cacheable) in_flight_.emplace(key, shared);
        owner = true;
      }
    }
    InputValue v;
    if (owner) {
      try {
        v = execute(s, digest, op, cacheable ? key : "", std::move(inputs));
        if (cacheable) s.used(key, v.record);
        exec_promise.set_value(v);
      } catch (...) {
        exec_promise.set_exception(std::current_exception());
        std::lock_guard lock(mu_);
        in_flight_.erase(key);
        throw;
      }
      std::lock_guard lock(mu_);
      in_flight_.erase(key);
    } else {
      s.emit(digest, true, false, false);
      v = shared.get();
      s.emit(digest, false, true, true);
      ++s.cached;
    }
    promise.set_value(v);
    return v;
  } catch (const Cancelled&) {
    promise.set_exception(std::current_exception());
    throw;
  } catch (...) {
    s.stop.cancel();
    promise.set_exception(std::current_exception());
    throw;
  }
}

InputValue Solver::execute(Solve& s, const std::string& digest, const v1::Op& op,
                           const std::string& key, std::vector<InputValue> inputs) {
  // Shared-cache inputs are pulled (or rebuilt) before taking a slot: a rebuild takes one too.
  for (InputValue& in : inputs)
    if (!in.shared_key.empty()) in = make_local(s, in);
  slots_->acquire();
  struct Release {
    std::counting_semaphore<64>* sem;
    ~Release() { sem->release(); }
  } release{slots_.get()};
  s.stop.throw_if_cancelled();

  cache::FileLock key_lock;
  if (!key.empty()) {
    key_lock = store_.lock_key(key);  // another c2w process may be computing it right now
    if (auto hit = store_.get_action(key)) {
      s.emit(digest, true, true, true);
      ++s.cached;
      return InputValue{*hit, {}, digest, {}};
    }
  }
  s.emit(digest, true, false, false);
  try {
    for (InputValue& in : inputs)
      if (in.path.empty()) in = materialize(in.record);
    VertexProgress vp(s.progress, digest);
    OpContext ctx{store_, options_, vp, s.stop, std::move(inputs)};
    ctx.uploads = s.per.uploads;
    cache::Record record = ops_.find(op.kind_case())->run(op, ctx);
    if (record.description.empty()) record.description = s.name(digest);
    if (!key.empty()) store_.put_action(key, record);
    s.emit(digest, false, true, ctx.reused);
    ++(ctx.reused ? s.cached : s.executed);
    return InputValue{record, {}, digest, {}};
  } catch (const Cancelled&) {
    s.emit(digest, false, true, false, "cancelled");
    throw;
  } catch (const std::exception& e) {
    s.emit(digest, false, true, false, e.what());
    std::string hint = dynamic_cast<const Error*>(&e) ? static_cast<const Error&>(e).hint() : "";
    throw Error(s.name(digest) + s.where(digest) + ": " + e.what(), hint);
  }
}

}  // namespace c2w::solver
