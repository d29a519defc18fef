#include "client/remote.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "oci/sha256.h"

namespace c2w::client {

namespace fs = std::filesystem;

std::shared_ptr<grpc::Channel> builder_channel(const BuilderOptions& o) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
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

RemoteResult solve_remote(const BuilderOptions& o, v1::Control::Stub& stub,
                          const v1::SolveRequest& req, solver::ProgressSink& progress,
                          const solver::CancelToken& cancel, const fs::path& download_dir) {
  grpc::ClientContext ctx;
  authorize(ctx, o);
  std::atomic<bool> finished{false};
  std::thread watcher([&] {  // Ctrl-C: cancel the call, the builder cancels the solve
    while (!finished) {
      if (cancel.cancelled()) {
        ctx.TryCancel();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
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
  finished = true;
  watcher.join();
  if (cancel.cancelled()) throw Cancelled();
  if (!st.ok() && !have_result) throw_remote_error(st, o);
  if (!st.ok()) out.late_error = remote_error(st, o);
  if (!have_result)
    throw Error("the builder at " + o.address + " ended the solve without a result");
  if (out.result.kind() == v1::SolveResult::KIND_TREE)
    throw Error("the result is a directory tree, which a remote builder cannot send yet",
                "build a file result (e.g. out.wasm or --target kernel), or build in process");

  // Download beside the output, checking the digest while writing.
  fs::path tmp = download_dir / (".c2w-download." + std::to_string(getpid()));
  std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
  if (!file)
    throw Error("cannot write " + tmp.string(), "check that the output directory is writable");
  grpc::ClientContext rctx;
  authorize(rctx, o);
  v1::ReadResultRequest rreq;
  rreq.set_digest(out.result.digest());
  auto chunks = stub.ReadResult(&rctx, rreq);
  oci::Sha256 hash;
  v1::Chunk chunk;
  while (chunks->Read(&chunk)) {
    file.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    hash.update(chunk.data());
  }
  grpc::Status rst = chunks->Finish();
  file.close();
  if (!rst.ok() || !file) {
    fs::remove(tmp);
    if (!rst.ok()) throw_remote_error(rst, o);
    throw Error("cannot write " + tmp.string());
  }
  if (std::string got = hash.digest(); got != out.result.digest()) {
    fs::remove(tmp);
    throw Error("the result from the builder does not match its digest " + out.result.digest() +
                    " (got " + got + ")",
                "the connection or the builder's cache is corrupt; build again");
  }
  out.file = tmp;
  return out;
}

}  // namespace c2w::client
