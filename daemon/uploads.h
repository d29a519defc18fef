// The builder's side of a client's local inputs (c2w --builder): which blobs it lacks, taking
// one blob's bytes, and turning a SolveRequest's local files and images into the uploads the
// ops read. Promises:
// - a blob is kept only when its bytes match its sha256 and its declared size; a size the
//   store's file system has no room for is refused before any byte is written;
// - a request naming a malformed digest, an image manifest that was not uploaded, or more
//   entries than a builder accepts is refused with a gRPC error, never a crash. (The local op
//   checks the entries' shape and content when it runs: ops/local/local_op.h.)
#pragma once

#include <grpcpp/grpcpp.h>

#include "c2w/v1/control.grpc.pb.h"
#include "cache/store.h"
#include "solver/op.h"

namespace c2w::daemon {

// Bounds on one request, so a hostile client cannot make the daemon allocate without limit.
inline constexpr int kMaxDigestsPerQuery = 1 << 20;
inline constexpr int kMaxLocalEntries = 1 << 20;
// The size of the chunks blobs travel in, both ways.
inline constexpr size_t kTransferChunkBytes = 256 << 10;
// Space a blob upload must leave free on the store's file system.
inline constexpr uint64_t kUploadReserveBytes = 64ull << 20;

grpc::Status missing_blobs(cache::Store& store, const v1::MissingBlobsRequest& req,
                           v1::MissingBlobsResponse& resp);

grpc::Status put_blob(cache::Store& store, grpc::ServerContext& ctx,
                      grpc::ServerReader<v1::PutBlobRequest>& reader, v1::PutBlobResponse& resp);

// The request's local inputs, checked; `status` is set (and the result empty) when refused.
solver::ClientUploads client_uploads(cache::Store& store, const v1::SolveRequest& req,
                                     grpc::Status& status);

}  // namespace c2w::daemon
