// The ops this build of c2w ships, ready for a Solver: the same set in-process and in c2wd.
#pragma once

#include "ops/fetch/registry_client.h"
#include "solver/op.h"

namespace c2w::ops {

solver::OpRegistry shipped_ops(const fetch::RegistryOptions& registry);

}  // namespace c2w::ops
