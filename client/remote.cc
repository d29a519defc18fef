#include "client/remote.h"

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "cache/tree_tar/tree_tar.h"
#include "oci/sha256.h"
#include "proto/limits.h"

namespace c2w::client {

namespace fs = std::filesystem;

std::shared_ptr<grpc::Channel> builder_channel(const BuilderOptions& o) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(v1::kMaxMessageBytes);
  if (o.address.starts_with("unix://"))
    return grpc::CreateCustomChannel(o.address, grpc::InsecureChannelCredentials(), args);
  if (o.address.starts_with("tcp://")) {
    grpc::SslCredentialsOptions ssl;
    if (!o.ca_file.empty()) {
      std::ifstream in(o.ca_file);
      if (!in)
        throw Error("cannot read the builder CA " + o.ca_file, "pass a PEM file to --builder-ca");
      std::stringstream ss;
      ss << in.rdbuf();
      ssl.pem_root_certs = ss.str();
    }
    return grpc::CreateCustomChannel(o.address.substr(6), grpc::SslCredentials(ssl), args);
  }
  throw Error("invalid builder address \"" + o.address + "\"",
              "use unix:///path/to/c2wd.sock or tcp://host:port");
}

void authorize(grpc::ClientContext& ctx, const BuilderOptions& o) {
  if (!o.token.empty()) ctx.AddMetadata("authorization", "Bearer " + o.token);
}

namespace {

Error remote_error(const grpc::Status& status, const BuilderOptions& o) {
  std::string msg = status.error_message();
  std::string hint;
  if (size_t h = msg.find("\n  hint: "); h != std::string::npos) {
    hint = msg.substr(h + 9);
    msg = msg.substr(0, h);
  }
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Error("lost the builder at " + o.address + ": " + msg,
                   hint.empty()
                       ? "is c2wd running there? for tcp://, check its certificate (--builder-ca)"
                       : hint);
    case grpc::StatusCode::UNAUTHENTICATED:
      return Error("the builder at " + o.address + " refused: " + msg, hint);
    default:
      return Error(msg, hint);
  }
}

}  // namespace

void throw_remote_error(const grpc::Status& status, const BuilderOptions& o) {
  if (status.error_code() == grpc::StatusCode::CANCELLED) throw Cancelled();
  throw remote_error(status, o);
}

namespace {

// A tree result: unless the store has it, its tar stream, checked against the sha256 the
// builder sends after it, is unpacked into the store under the tree's id.
fs::path download_tree(const BuilderOptions& o, v1::Control::Stub& stub, const std::string& id,
                       cache::Store& store) {
  if (auto have = store.tree(id)) return *have;
  grpc::ClientContext ctx;
  authorize(ctx, o);
  v1::ReadResultRequest req;
  req.set_digest(id);
  req.set_tree(true);
  auto chunks = stub.ReadResult(&ctx, req);
  oci::Sha256 hash;
  std::string trailer;
  v1::Chunk chunk;
  auto next = [&]() -> std::string_view {
    while (trailer.empty() && chunks->Read(&chunk)) {
      if (!chunk.stream_sha256().empty()) trailer = chunk.stream_sha256();
      if (chunk.data().empty()) continue;
      hash.update(chunk.data());
      return chunk.data();
    }
    return {};
  };
  const fs::path staged = store.stage_tree();
  struct Discard {
    cache::Store& store;
    fs::path dir;
    ~Discard() { store.discard(dir); }
  } discard{store, staged};
  const fs::path top = staged / "content";
  fs::create_directory(top);
  std::optional<Error> damaged;
  try {
    cache::read_tree_tar(next, top);
  } catch (const Error& e) {
    damaged = e;  // a broken stream is reported by its status or its checksum first
  }
  while (next().size()) {
  }
  grpc::Status st = chunks->Finish();
  if (!st.ok()) throw_remote_error(st, o);
  if (trailer.empty() || trailer != hash.digest())
    throw Error("the tree " + id + " from the builder arrived damaged (its checksum differs)",
                "the connection or the builder is at fault; build again");
  if (damaged) throw *damaged;
  return store.commit_tree(top, id);
}

}  // namespace

RemoteResult solve_remote(const BuilderOptions& o, v1::Control::Stub& stub,
                          const v1::SolveRequest& req, solver::ProgressSink& progress,
                          const solver::CancelToken& cancel, cache::Store& store) {
  grpc::ClientContext ctx;
  authorize(ctx, o);
  // Ctrl-C: cancel the call, and the builder cancels the solve. The watcher is woken when the
  // call ends, so it never delays the result.
  std::mutex mu;
  std::condition_variable ended;
  bool finished = false;
  std::thread watcher([&] {
    std::unique_lock lock(mu);
    while (!finished) {
      if (cancel.cancelled()) {
        ctx.TryCancel();
        return;
      }
      ended.wait_for(lock, std::chrono::milliseconds(50));
    }
  });
  RemoteResult out;
  bool have_result = false;
  auto reader = stub.Solve(&ctx, req);
  v1::SolveResponse resp;
  while (reader->Read(&resp)) {
    if (resp.has_status()) progress.write(resp.status());
    if (resp.has_result()) {
      out.result = resp.result();
      have_result = true;
    }
    if (resp.has_cache_export()) out.cache_export = resp.cache_export();
    if (!resp.warning().empty()) out.warnings.push_back(resp.warning());
  }
  grpc::Status st = reader->Finish();
  {
    std::lock_guard lock(mu);
    finished = true;
  }
  ended.notify_all();
  watcher.join();
  if (cancel.cancelled()) throw Cancelled();
  if (!st.ok() && !have_result) throw_remote_error(st, o);
  if (!st.ok()) out.late_error = remote_error(st, o);
  if (!have_result)
    throw Error("the builder at " + o.address + " ended the solve without a result");
  if (out.result.kind() == v1::SolveResult::KIND_TREE) {
    out.file = download_tree(o, stub, out.result.digest(), store);
    return out;
  }
  if (auto have = store.blob(out.result.digest())) {  // built before: nothing to download
    out.file = *have;
    return out;
  }
  // The writer holds the blob's download lock: a client that shares this cache and wanted the
  // same result waits here, then finds it.
  cache::BlobWriter file = store.write_blob(out.result.digest());
  if (auto have = store.blob(out.result.digest())) {
    out.file = *have;
    return out;
  }
  file.restart();
  grpc::ClientContext rctx;
  authorize(rctx, o);
  v1::ReadResultRequest rreq;
  rreq.set_digest(out.result.digest());
  auto chunks = stub.ReadResult(&rctx, rreq);
  v1::Chunk chunk;
  while (chunks->Read(&chunk)) file.write(chunk.data().data(), chunk.data().size());
  grpc::Status rst = chunks->Finish();
  if (!rst.ok()) throw_remote_error(rst, o);
  try {
    file.commit();  // checks the digest
  } catch (const Error& e) {
    throw Error("the result from the builder is corrupt: " + std::string(e.what()),
                "the connection or the builder's cache is corrupt; build again");
  }
  out.file = store.blob(out.result.digest()).value();
  return out;
}

}  // namespace c2w::client
