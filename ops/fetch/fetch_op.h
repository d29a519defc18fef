// The fetch op: brings an image (registry, OCI layout, docker archive) into the store. It is
// volatile (a tag can move, a local file can change) and names its result by the manifest
// digest, so an unchanged image hits the cache downstream whatever reference named it.
#pragma once

#include "distribution/registry_client.h"
#include "solver/op.h"

namespace c2w::fetch {

// Local sources (oci-layout:, docker-archive:) are read from this machine only in process
// (`local_paths`); a builder (c2wd) resolves them from what the client uploaded with the solve,
// and never opens a path a client names.
class FetchOp : public solver::OpImpl {
 public:
  FetchOp(distribution::RegistryOptions options, bool local_paths)
      : options_(std::move(options)), local_paths_(local_paths) {}
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;
  bool is_volatile(const v1::Op&) const override { return true; }

 private:
  distribution::RegistryOptions options_;
  bool local_paths_;
};

}  // namespace c2w::fetch
