// The pack op: input [0] a boot blob. TARGET wasi: the embedded runtime module
// (embedded_runtime.h) with the snapshot laid out by pack() (pack_module.h) -> out.wasm.
// TARGET browser: the same out.wasm (meta "target": "browser"); the client turns it into a
// folder with the page around it when it exports the result (client/browser.h).
// Cache key: the op and the snapshot's content, salted with the runtime's digest and the
// layout version, so a c2w with another runtime repacks. Deterministic.
#pragma once

#include <string>

#include "solver/op.h"

namespace c2w::pack {

inline constexpr const char* kPackLayout = "c2w-pack-v1";

class PackOp : public solver::OpImpl {
 public:
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;
  std::string cache_salt(const v1::Op&) const override;
};

}  // namespace c2w::pack
