#include "daemon/control_service.h"

#include <fstream>
#include <thread>

#include "base/error.h"
#include "cache/tree_tar/tree_tar.h"
#include "daemon/uploads.h"
#include "graph/digest.h"
#include "oci/sha256.h"
#include "shared_cache/shared_cache.h"

namespace c2w::daemon {

namespace {

// The client prints messages as they are; a hint travels on its own line.
grpc::Status error_status(grpc::StatusCode code, const Error& e) {
  std::string msg = e.what();
  if (!e.hint().empty()) msg += "\n  hint: " + e.hint();
  return grpc::Status(code, msg);
}

std::string new_id() {
  static std::atomic<uint64_t> counter{0};
  return "solve-" + std::to_string(solver::now_unix_nanos()) + "-" +
         std::to_string(counter.fetch_add(1));
}

bool equal_constant_time(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

// One running (or finished) solve: its progress so far, for the Solve stream and Status.
struct ControlService::Session : solver::ProgressSink {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<v1::SolveStatus> history;
  bool done = false;
  solver::CancelToken cancel;

  void write(const v1::SolveStatus& status) override {
    std::lock_guard lock(mu);
    history.push_back(status);
    cv.notify_all();
  }
  void finish() {
    std::lock_guard lock(mu);
    done = true;
    cv.notify_all();
  }
  // Waits up to `wait` for statuses after the first `sent`; returns them and moves `sent` on.
  std::vector<v1::SolveStatus> next(size_t& sent, std::chrono::milliseconds wait, bool& finished) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, wait, [&] { return done || history.size() > sent; });
    std::vector<v1::SolveStatus> batch(history.begin() + long(sent), history.end());
    sent = history.size();
    finished = done;
    return batch;
  }
};

ControlService::ControlService(cache::Store& store, solver::Solver& solver, ServiceOptions options)
    : store_(store), solver_(solver), options_(std::move(options)) {}

ControlService::~ControlService() {
  cancel_all();
}

void ControlService::cancel_all() {
  std::lock_guard lock(mu_);
  for (auto& [id, s] : sessions_) s->cancel.cancel();
  slot_free_.notify_all();
}

grpc::Status ControlService::check_auth(grpc::ServerContext* ctx) const {
  if (options_.token.empty()) return grpc::Status::OK;
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end())
    return grpc::Status(
        grpc::StatusCode::UNAUTHENTICATED,
        "this builder needs a token\n  hint: pass --builder-token or set C2W_BUILDER_TOKEN");
  std::string got(it->second.data(), it->second.size());
  if (!equal_constant_time(got, "Bearer " + options_.token))
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the builder refused the token\n  hint: check --builder-token");
  return grpc::Status::OK;
}

grpc::Status ControlService::Solve(grpc::ServerContext* ctx, const v1::SolveRequest* req,
                                   grpc::ServerWriter<v1::SolveResponse>* writer) {
  if (auto st = check_auth(ctx); !st.ok()) return st;
  if (req->definition().ops_size() == 0 || req->definition().result().digest().empty())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the request carries no build graph");
  try {
    solver_.check_ops(req->definition());
  } catch (const Error& e) {
    return error_status(grpc::StatusCode::FAILED_PRECONDITION, e);
  }
  grpc::Status refused;
  const solver::ClientUploads uploads = client_uploads(store_, *req, refused);
  if (!refused.ok()) return refused;
  std::string id = req->id().empty() ? new_id() : req->id();
  auto session = std::make_shared<Session>();
  {
    std::unique_lock lock(mu_);
    if (sessions_.count(id))
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "a solve named " + id + " exists");
    while (running_ >= options_.max_solves) {
      slot_free_.wait_for(lock, std::chrono::milliseconds(200));
      if (ctx->IsCancelled())
        return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
    }
    ++running_;
    sessions_[id] = session;
  }
  struct Release {  // the slot and the session's place in the history, however Solve ends
    ControlService* self;
    std::string id;
    ~Release() {
      std::lock_guard lock(self->mu_);
      --self->running_;
      self->slot_free_.notify_all();
      self->finished_.push_back(id);
      while (self->finished_.size() > 32) {  // Status can look back a little; memory stays bounded
        self->sessions_.erase(self->finished_.front());
        self->finished_.pop_front();
      }
    }
  } release{this, id};

  // The shared cache: opened before the solve, so a bad location is refused before any work.
  auto cancelled = [session] { return session->cancel.cancelled(); };
  std::unique_ptr<shared_cache::ArtifactStore> cache_to;
  std::unique_ptr<shared_cache::SharedCache> cache_from;
  try {
    if (!req->cache_to().ref().empty())
      cache_to = shared_cache::open_artifact_store({"registry", req->cache_to().ref(), "", ""},
                                                   options_.registry, cancelled);
    if (!req->cache_from().ref().empty())
      cache_from = std::make_unique<shared_cache::SharedCache>(
          shared_cache::open_artifact_store({"registry", req->cache_from().ref(), "", ""},
                                            options_.registry, cancelled),
          store_, [&](const std::string& w) {
            v1::SolveResponse r;
            r.set_warning(w);
            writer->Write(r);
          });
  } catch (const Error& e) {
    return error_status(grpc::StatusCode::FAILED_PRECONDITION, e);
  }

  v1::Definition def = req->definition();
  solver::SolveResult result;
  grpc::Status outcome = grpc::Status::OK;
  std::thread worker([&] {
    try {
      result = solver_.solve(def, *session, session->cancel,
                             {cache_from.get(), &uploads, req->no_cache()});
    } catch (const Cancelled&) {
      outcome = grpc::Status(grpc::StatusCode::CANCELLED, "the solve was cancelled");
    } catch (const Error& e) {
      outcome = error_status(grpc::StatusCode::FAILED_PRECONDITION, e);
    } catch (const std::exception& e) {
      outcome = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
    }
    session->finish();
  });
  size_t sent = 0;
  bool client_gone = false;
  for (;;) {
    bool done;
    std::vector<v1::SolveStatus> batch = session->next(sent, std::chrono::milliseconds(100), done);
    for (const auto& s : batch) {
      v1::SolveResponse r;
      *r.mutable_status() = s;
      if (!client_gone && !writer->Write(r)) client_gone = true;
    }
    if (ctx->IsCancelled() || client_gone) session->cancel.cancel();  // Ctrl-C or a lost client
    if (done) break;
  }
  worker.join();
  if (!outcome.ok()) return outcome;
  v1::SolveResponse r;
  auto* res = r.mutable_result();
  res->set_digest(result.record.content);
  res->set_size_bytes(static_cast<int64_t>(result.record.size));
  res->set_kind(result.record.kind == cache::Record::Kind::kTree ? v1::SolveResult::KIND_TREE
                                                                 : v1::SolveResult::KIND_BLOB);
  if (result.record.meta.is_object()) res->set_filename(result.record.meta.value("filename", ""));
  res->set_executed(result.executed);
  res->set_cached(result.cached);
  writer->Write(r);
  if (cache_to) {
    try {
      shared_cache::CacheExportSummary sum =
          shared_cache::export_cache(result.records, store_, *cache_to);
      v1::SolveResponse done;
      auto* e = done.mutable_cache_export();
      e->set_target(cache_to->describe());
      e->set_records(sum.records);
      e->set_blobs(sum.blobs);
      e->set_bytes(sum.bytes);
      e->set_manifest_digest(sum.manifest_digest);
      writer->Write(done);
    } catch (const Error& e) {
      return error_status(
          grpc::StatusCode::FAILED_PRECONDITION,
          Error("cannot export the cache to " + cache_to->describe() + ": " + e.what(), e.hint()));
    }
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::MissingBlobs(grpc::ServerContext* ctx,
                                          const v1::MissingBlobsRequest* req,
                                          v1::MissingBlobsResponse* resp) {
  if (auto st = check_auth(ctx); !st.ok()) return st;
  return missing_blobs(store_, *req, *resp);
}

grpc::Status ControlService::PutBlob(grpc::ServerContext* ctx,
                                     grpc::ServerReader<v1::PutBlobRequest>* reader,
                                     v1::PutBlobResponse* resp) {
  if (auto st = check_auth(ctx); !st.ok()) return st;
  return put_blob(store_, *ctx, *reader, *resp);
}

grpc::Status ControlService::Status(grpc::ServerContext* ctx, const v1::StatusRequest* req,
                                    grpc::ServerWriter<v1::SolveStatus>* writer) {
  if (auto st = check_auth(ctx); !st.ok()) return st;
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(req->id());
    if (it == sessions_.end())
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no solve named " + req->id());
    session = it->second;
  }
  size_t sent = 0;
  for (;;) {
    bool done;
    std::vector<v1::SolveStatus> batch = session->next(sent, std::chrono::milliseconds(200), done);
    for (const auto& s : batch)
      if (!writer->Write(s)) return grpc::Status::OK;
    if (done || ctx->IsCancelled()) return grpc::Status::OK;
  }
}

grpc::Status ControlService::DiskUsage(grpc::ServerContext* ctx, const v1::DiskUsageRequest*,
                                       v1::DiskUsageResponse* resp) {
  if (auto st = check_auth(ctx); !st.ok()) return st;
  int64_t total = 0;
  for (const auto& e : store_.usage()) {
    auto* r = resp->add_records();
    r->set_id(e.id);
    r->set_kind(e.kind);
    r->set_size_bytes(static_cast<int64_t>(e.size));
    r->set_last_used_unix(e.last_used);
    r->set_description(e.description);
    total += static_cast<int64_t>(e.size);
  }
  resp->set_total_bytes(total);
  return grpc::Status::OK;
}

grpc::Status ControlService::Prune(grpc::ServerContext* ctx, const v1::PruneRequest* req,
                                   v1::PruneResponse* resp) {
  if (auto st = check_auth(ctx); !st.ok()) return st;
  if (req->keep_bytes() < 0)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "keep_bytes is negative");
  try {
    auto r = store_.prune(static_cast<uint64_t>(req->keep_bytes()),
                          req->all() || req->keep_bytes() == 0);
    resp->set_removed_bytes(static_cast<int64_t>(r.removed_bytes));
    resp->set_removed_entries(static_cast<int64_t>(r.removed_entries));
  } catch (const Error& e) {
    return error_status(grpc::StatusCode::UNAVAILABLE, e);
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::Info(grpc::ServerContext* ctx, const v1::InfoRequest*,
                                  v1::InfoResponse* resp) {
  if (auto st = check_auth(ctx); !st.ok()) return st;
  resp->set_version(options_.version);
  resp->add_platforms("linux/riscv64");
  resp->add_emulator_cores("riscv64");
  return grpc::Status::OK;
}

grpc::Status ControlService::ReadResult(grpc::ServerContext* ctx, const v1::ReadResultRequest* req,
                                        grpc::ServerWriter<v1::Chunk>* writer) {
  if (auto st = check_auth(ctx); !st.ok()) return st;
  if (req->tree() && (graph::is_digest(req->digest()) || oci::is_sha256_digest(req->digest())))
    return send_tree(*ctx, req->digest(), *writer);
  if (!oci::is_sha256_digest(req->digest()))
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "results are read by sha256 digest or tree id");
  auto path = store_.blob(req->digest());
  if (!path)
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "no result " + req->digest() + " in the builder's cache");
  std::ifstream in(*path, std::ios::binary);
  // Chunks this size move faster than 1 MiB ones: each message is copied a few times into
  // fresh buffers, and big ones fault in new pages on every copy.
  std::string buf(kTransferChunkBytes, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    v1::Chunk c;
    c.set_data(buf.data(), static_cast<size_t>(in.gcount()));
    if (c.data().empty()) break;
    if (!writer->Write(c) || ctx->IsCancelled())
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  }
  return grpc::Status::OK;
}

grpc::Status ControlService::send_tree(grpc::ServerContext& ctx, const std::string& id,
                                       grpc::ServerWriter<v1::Chunk>& writer) {
  auto tree = store_.tree(id);
  if (!tree)
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no tree " + id + " in the builder's cache");
  oci::Sha256 hash;
  bool sent = false;
  try {
    sent = cache::write_tree_tar(*tree, kTransferChunkBytes, [&](std::string_view piece) {
      hash.update(piece);
      v1::Chunk c;
      c.set_data(piece.data(), piece.size());
      return writer.Write(c) && !ctx.IsCancelled();
    });
  } catch (const Error& e) {
    return error_status(grpc::StatusCode::INTERNAL, e);
  }
  if (!sent) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  v1::Chunk trailer;
  trailer.set_stream_sha256(hash.digest());
  writer.Write(trailer);
  return grpc::Status::OK;
}

}  // namespace c2w::daemon
