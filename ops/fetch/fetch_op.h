// The fetch op: brings an image (registry, OCI layout, docker archive) into the store. It is
// volatile (a tag can move, a local file can change) and names its result by the manifest
// digest, so an unchanged image hits the cache downstream whatever reference named it.
#pragma once

#include "ops/fetch/registry_client.h"
#include "solver/op.h"

namespace c2w::fetch {

class FetchOp : public solver::OpImpl {
 public:
  explicit FetchOp(RegistryOptions options) : options_(std::move(options)) {}
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;
  bool is_volatile(const v1::Op&) const override { return true; }

 private:
  RegistryOptions options_;
};

}  // namespace c2w::fetch
