// `c2w [options] IMAGE [OUTPUT]`: the conversion, in the steps it takes:
//   1. the recipe (embedded or --recipe) becomes a graph (frontend), with IMAGE, --target-arch,
//      --platform and --build-arg as its ARGs;
//   2. the graph is solved, in process or on a builder (--builder), Ctrl-C cancelling it;
//   3. the result is written where the options say (OUTPUT, --output, --to-browser);
//   4. with --cache-to, the build's records are exported after the result is safe.
// Errors are thrown (c2w::Error with a hint, UsageError, Cancelled); cmd/c2w prints them.
#pragma once

#include "client/options.h"

namespace c2w::client {

int convert(const Options& options);

}  // namespace c2w::client
