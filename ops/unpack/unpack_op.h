// The unpack op: the fetched image's layers (input 0, a fetch result) applied into a rootfs
// tree in the store. Its result is a tree named by the image's OCI ChainID, so the same layers
// give the same tree id whatever compression or reference they came with.
#pragma once

#include "solver/op.h"

namespace c2w::unpack {

class UnpackOp : public solver::OpImpl {
 public:
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;
};

}  // namespace c2w::unpack
