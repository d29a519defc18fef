// What each c2w command does, given parsed options: help, version, show-recipe, serve, du,
// prune, and the conversion (client/convert.h). Returns the process exit status; errors are
// thrown (c2w::Error with a hint, UsageError, Cancelled) and cmd/c2w prints them.
#pragma once

#include "client/options.h"

namespace c2w::client {

int run_command(const Options& options);

}  // namespace c2w::client
