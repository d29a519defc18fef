// A remote build's local inputs (c2w --builder): the content of every local op of the graph
// (COPY sources, local kernel tarballs, read from the recipe's directory) and every image a
// local transport names (oci-layout:, docker-archive:, read into this machine's cache first,
// checked like an in-process fetch). They travel content-addressed: the builder is asked which
// sha256 blobs it lacks and only those are sent, so a rebuild with unchanged inputs sends
// nothing. The builder re-checks every byte (daemon/uploads.h, ops/local/local_op.h).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "c2w/v1/control.grpc.pb.h"
#include "cache/store.h"
#include "client/remote.h"
#include "distribution/registry_client.h"
#include "solver/op.h"

namespace c2w::client {

struct LocalInputs {
  std::vector<v1::LocalContent> files;
  std::vector<v1::LocalImage> images;
  std::map<std::string, std::filesystem::path> blobs;  // sha256 -> its bytes on this machine
  bool empty() const { return files.empty() && images.empty(); }
};

// Reads what the graph's local ops name. `context`: the recipe's directory (empty for the
// embedded recipe, which has no local files); `store`: where local images are read into.
LocalInputs gather_local_inputs(const v1::Definition& definition,
                                const std::filesystem::path& context, cache::Store& store,
                                solver::VertexProgress& progress,
                                const solver::CancelToken& cancel);

struct UploadSummary {
  size_t blobs = 0, sent_blobs = 0;
  uint64_t bytes = 0, sent_bytes = 0;
  double seconds = 0;  // asking and sending
};

// Sends the blobs of `inputs` the builder lacks, with a byte counter on `progress`.
UploadSummary send_local_inputs(v1::Control::Stub& stub, const BuilderOptions& builder,
                                const LocalInputs& inputs, solver::VertexProgress& progress,
                                const solver::CancelToken& cancel);

// Gathers and sends the local inputs of `request.definition()` and records them in `request`,
// shown as one vertex of `progress` ("local inputs"; CACHED when the builder had them all).
// Graphs without local inputs cost nothing.
void attach_local_inputs(v1::Control::Stub& stub, const BuilderOptions& builder,
                         const std::filesystem::path& context, cache::Store& store,
                         solver::ProgressSink& progress, const solver::CancelToken& cancel,
                         v1::SolveRequest& request);

}  // namespace c2w::client
