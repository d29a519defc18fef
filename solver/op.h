// What an op implementation gets and gives. Ops are pure functions of their definition and
// their inputs' contents (that is what makes their results cacheable); an op that reads the
// outside world (a registry, a local file) is `volatile`: it runs on every solve and names its
// output by content, so that unchanged content still hits the cache downstream.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "c2w/v1/graph.pb.h"
#include "cache/store.h"
#include "solver/progress.h"

namespace c2w::solver {

// Set by Ctrl-C (or a client going away); every op checks it at its own pace.
// A token may follow a parent: it reads as cancelled when either was cancelled (a solve stops
// its other vertices when one fails, and still stops for Ctrl-C).
class CancelToken {
 public:
  explicit CancelToken(const CancelToken* parent = nullptr) : parent_(parent) {}
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load() || (parent_ && parent_->cancelled()); }
  void throw_if_cancelled() const;

 private:
  std::atomic<bool> cancelled_{false};
  const CancelToken* parent_;
};

// Settings of the solve itself; ops get their own settings when they are registered.
struct SolveOptions {
  bool no_cache = false;     // execute every vertex, still store results
  unsigned parallelism = 0;  // concurrent op executions; 0: hardware threads
};

// A finished input: its record and, when it has one, where its output is on disk.
struct InputValue {
  cache::Record record;
  std::filesystem::path path;  // blob file or tree dir
  std::string vertex;          // the op digest that produced it
  // Set when the record came from a shared cache and its content is not local yet: the key
  // under which the record is pulled (or, when that fails, the vertex runs) once it is needed.
  std::string shared_key;
};

// A shared cache imported with --cache-from (docs/DESIGN.md "The engine"): a second source of
// action records, asked when a key misses locally. Lookups are cheap (an index read once);
// content is pulled only when a vertex needs it (lazily), so a hit whose output nothing reads
// costs nothing.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // The record for `key`, validated as far as it can be without its content.
  virtual std::optional<cache::Record> lookup(const std::string& key) = 0;
  // Pulls the content of `record` into `store` (checked against its digest) and installs the
  // record under `key`. False when the shared cache holds only the record, not the content (a
  // tree); throws c2w::Error when the content is refused (a blob that does not match its
  // digest). Either way the solver then runs the vertex instead.
  virtual bool pull(const std::string& key, const cache::Record& record, cache::Store& store,
                    VertexProgress& progress) = 0;
};

// What a remote client sent with its solve for the ops that read the client's machine (on
// c2wd; in process those ops read the machine itself). The builder checked the request's
// shape; every blob named here is in the store, checked against its sha256.
struct ClientUploads {
  std::map<std::string, v1::LocalContent> files;  // by LocalOp.content_digest
  std::map<std::string, std::string> images;      // image_key(ref, platform) -> manifest
  static std::string image_key(const std::string& ref, const std::string& platform) {
    return ref + "\n" + platform;
  }
};

struct OpContext {
  cache::Store& store;
  const SolveOptions& options;
  VertexProgress& progress;
  const CancelToken& cancel;
  std::vector<InputValue> inputs;
  // Set by the op when it found everything it needed already in the store (shown as CACHED).
  bool reused = false;
  const ClientUploads* uploads = nullptr;  // a remote client's local inputs; null in process
};

class OpImpl {
 public:
  virtual ~OpImpl() = default;
  virtual cache::Record run(const v1::Op& op, OpContext& ctx) = 0;
  virtual bool is_volatile(const v1::Op&) const { return false; }
  // Extra cache-key material that is neither in the op nor in its inputs: the version of a
  // tool the op runs (a new cross compiler must rebuild the kernel), or a binary built into
  // c2w that shapes the result (rootfs puts the guest init into every initramfs).
  virtual std::string cache_salt(const v1::Op&) const { return {}; }
};

// Op implementations by kind; the CLI and c2wd register the ops they ship.
class OpRegistry {
 public:
  void add(v1::Op::KindCase kind, std::shared_ptr<OpImpl> impl);
  // Null when no implementation exists (the solve then fails naming the op).
  OpImpl* find(v1::Op::KindCase kind) const;

 private:
  std::map<v1::Op::KindCase, std::shared_ptr<OpImpl>> impls_;
};

}  // namespace c2w::solver
