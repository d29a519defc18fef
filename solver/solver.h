// Runs a graph (c2w.v1.Definition) to its result, LLB-style:
// - a vertex's cache key is XXH3(op digest, the content of each input's result), so a vertex
//   whose inputs produced the same content as before hits the cache even when they were
//   recomputed (early cut-off: a new tag for the same manifest still hits downstream);
// - inputs of a vertex are solved in parallel; op executions are bounded by `parallelism`;
// - one vertex executes once per key at a time: in this process (two solves asking for it at
//   once share one execution) and across processes (a lock file per key);
// - cancellation stops the solve with c2w::Cancelled; nothing partial is ever recorded;
// - a failure names the vertex, its stage and its recipe line.
#pragma once

#include <future>
#include <map>
#include <mutex>
#include <semaphore>
#include <string>

#include "c2w/v1/graph.pb.h"
#include "cache/store.h"
#include "solver/op.h"
#include "solver/progress.h"

namespace c2w::solver {

struct SolveResult {
  cache::Record record;
  std::filesystem::path path;  // blob file or tree dir of the result
  size_t executed = 0;         // vertices that ran their op
  size_t cached = 0;           // vertices served from the cache
  // Key -> record of every cacheable vertex of this solve (what --cache-to exports).
  std::map<std::string, cache::Record> records;
};

// What one solve brings besides its graph; all optional.
struct PerSolve {
  RecordSource* shared = nullptr;          // asked for keys that miss locally (--cache-from)
  const ClientUploads* uploads = nullptr;  // a remote client's local inputs (c2wd)
  bool no_cache = false;                   // run every vertex of this solve (--no-cache)
};

class Solver {
 public:
  Solver(cache::Store& store, SolveOptions options, OpRegistry ops);
  // Throws c2w::Error naming the first op of `def` (with its stage and recipe line) that this
  // solver has no implementation for: lets callers refuse before doing any work.
  void check_ops(const v1::Definition& def) const;
  // Thread-safe: several solves may run at once on one Solver.
  SolveResult solve(const v1::Definition& def, ProgressSink& progress, const CancelToken& cancel,
                    const PerSolve& per_solve = {});

 private:
  struct Solve;
  InputValue solve_vertex(Solve& s, const std::string& digest);
  InputValue execute(Solve& s, const std::string& digest, const v1::Op& op, const std::string& key,
                     std::vector<InputValue> inputs);
  InputValue materialize(const cache::Record& record);
  // Makes an input's content local: pulls a shared-cache hit, or runs its vertex when the pull
  // fails (a tampered blob, a tree the shared cache does not hold).
  InputValue make_local(Solve& s, const InputValue& value);
  // Runs the vertex `digest` under `key` although a record was found for it elsewhere.
  InputValue rebuild(Solve& s, const std::string& digest, const std::string& key);

  cache::Store& store_;
  SolveOptions options_;
  OpRegistry ops_;
  std::unique_ptr<std::counting_semaphore<64>> slots_;
  std::mutex mu_;
  std::map<std::string, std::shared_future<InputValue>> in_flight_;  // by cache key
};

}  // namespace c2w::solver
