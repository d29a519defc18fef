// The Control service (proto/c2w/v1/control.proto) over one Solver and one Store: what c2wd
// serves. Promises:
// - Solve streams the solve's progress and ends with the result; a client that goes away (or
//   a server shutdown) cancels its solve, and the cache stays consistent;
// - several clients share one Solver, so a vertex they all need executes once;
// - at most `max_solves` solves run at once, the others wait their turn;
// - every request is checked: a graph that does not parse, names unknown inputs or ops the
//   daemon lacks, or a result digest that is not in the store is refused with a gRPC error,
//   never a crash;
// - with a token configured, every call must carry `authorization: Bearer <token>`;
// - a client's local inputs arrive content-addressed (MissingBlobs, PutBlob: daemon/uploads.h)
//   and the solve's local ops read only those;
// - --cache-from / --cache-to of a solve run here, against registries this daemon can reach
//   (its --insecure-registry, --registry-ca and docker config); the export follows the result,
//   so a failed export still leaves the client its output.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "c2w/v1/control.grpc.pb.h"
#include "cache/store.h"
#include "distribution/registry_client.h"
#include "solver/solver.h"

namespace c2w::daemon {

struct ServiceOptions {
  std::string token;        // required bearer token; empty: none
  unsigned max_solves = 4;  // concurrent solves
  std::string version;
  distribution::RegistryOptions registry;  // for the shared cache of a solve
};

class ControlService final : public v1::Control::Service {
 public:
  ControlService(cache::Store& store, solver::Solver& solver, ServiceOptions options);
  ~ControlService() override;

  grpc::Status Solve(grpc::ServerContext* ctx, const v1::SolveRequest* req,
                     grpc::ServerWriter<v1::SolveResponse>* writer) override;
  grpc::Status Status(grpc::ServerContext* ctx, const v1::StatusRequest* req,
                      grpc::ServerWriter<v1::SolveStatus>* writer) override;
  grpc::Status DiskUsage(grpc::ServerContext* ctx, const v1::DiskUsageRequest* req,
                         v1::DiskUsageResponse* resp) override;
  grpc::Status Prune(grpc::ServerContext* ctx, const v1::PruneRequest* req,
                     v1::PruneResponse* resp) override;
  grpc::Status Info(grpc::ServerContext* ctx, const v1::InfoRequest* req,
                    v1::InfoResponse* resp) override;
  grpc::Status ReadResult(grpc::ServerContext* ctx, const v1::ReadResultRequest* req,
                          grpc::ServerWriter<v1::Chunk>* writer) override;
  grpc::Status MissingBlobs(grpc::ServerContext* ctx, const v1::MissingBlobsRequest* req,
                            v1::MissingBlobsResponse* resp) override;
  grpc::Status PutBlob(grpc::ServerContext* ctx, grpc::ServerReader<v1::PutBlobRequest>* reader,
                       v1::PutBlobResponse* resp) override;

  // Cancels every running solve (SIGTERM): they end with CANCELLED, the cache stays whole.
  void cancel_all();

 private:
  struct Session;
  grpc::Status check_auth(grpc::ServerContext* ctx) const;
  grpc::Status send_tree(grpc::ServerContext& ctx, const std::string& id,
                         grpc::ServerWriter<v1::Chunk>& writer);

  cache::Store& store_;
  solver::Solver& solver_;
  ServiceOptions options_;
  std::mutex mu_;
  std::condition_variable slot_free_;
  unsigned running_ = 0;
  std::map<std::string, std::shared_ptr<Session>> sessions_;  // by solve id
  std::deque<std::string> finished_;  // ids of finished solves kept for Status, oldest first
};

}  // namespace c2w::daemon
