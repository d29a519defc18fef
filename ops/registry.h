// The ops this build of c2w ships, ready for a Solver: the same set in-process and in c2wd.
#pragma once

#include <filesystem>

#include "distribution/registry_client.h"
#include "solver/op.h"

namespace c2w::ops {

// In process: local files (COPY sources) are read from `context` (the recipe's directory;
// empty for the embedded recipe) and local images from their paths on this machine.
solver::OpRegistry shipped_ops(const distribution::RegistryOptions& registry,
                               const std::filesystem::path& context = {});

// On a builder (c2wd): local files and local images come only from what the client uploaded
// with its solve; no path a client names is ever opened.
solver::OpRegistry builder_ops(const distribution::RegistryOptions& registry);

}  // namespace c2w::ops
