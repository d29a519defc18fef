// Building on a remote builder (c2wd) instead of in process: the client runs the frontend,
// sends the graph, renders the builder's progress stream with the same printers, and
// downloads the result, checked against its sha256. A lost connection, a refused token or an
// untrusted certificate is a clear c2w::Error, never a hang; Ctrl-C cancels the remote solve.
//   unix:///path/c2wd.sock   local daemon (permissions of the socket file guard it)
//   tcp://host:port          TLS (system CAs, or --builder-ca) with a bearer token
#pragma once

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "c2w/v1/control.grpc.pb.h"
#include "cache/store.h"
#include "solver/op.h"
#include "solver/progress.h"

namespace c2w::client {

struct BuilderOptions {
  std::string address;  // unix:///path or tcp://host:port
  std::string ca_file;  // extra CA for tcp://
  std::string token;    // bearer token, sent on every call
};

std::shared_ptr<grpc::Channel> builder_channel(const BuilderOptions& options);
// Adds the token to a call.
void authorize(grpc::ClientContext& ctx, const BuilderOptions& options);
// Turns a failed call into a c2w::Error (message and hint as the builder gave them).
[[noreturn]] void throw_remote_error(const grpc::Status& status, const BuilderOptions& options);

struct RemoteResult {
  v1::SolveResult result;
  std::filesystem::path file;  // the result blob in the client's store
  std::vector<std::string> warnings;
  std::optional<v1::CacheExport> cache_export;
  // The builder failed after sending the result (e.g. the --cache-to export): the caller
  // writes its output first, then reports this.
  std::optional<Error> late_error;
};

// Runs `request` (a graph, its local inputs, its cache options) on the builder and downloads
// the result into `store`, checked against its digest, unless `store` has it already.
RemoteResult solve_remote(const BuilderOptions& options, v1::Control::Stub& stub,
                          const v1::SolveRequest& request, solver::ProgressSink& progress,
                          const solver::CancelToken& cancel, cache::Store& store);

}  // namespace c2w::client
