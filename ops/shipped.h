// The ops this build of c2w ships, ready for a Solver: the same set in-process and in c2wd.
#pragma once

#include <filesystem>

#include "ops/fetch/registry_client.h"
#include "solver/op.h"

namespace c2w::ops {

// `context`: the directory local files (COPY sources) are read from; empty on a builder that
// has none (c2wd), where the local op then fails with a hint.
solver::OpRegistry shipped_ops(const fetch::RegistryOptions& registry,
                               const std::filesystem::path& context = {});

}  // namespace c2w::ops
