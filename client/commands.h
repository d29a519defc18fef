// What each c2w command does, given parsed options. Each returns the process exit status and
// reports errors on stderr as "c2w: error: ..." plus a hint line; cancellation (Ctrl-C) is 130.
#pragma once

#include "client/options.h"

namespace c2w::client {

int run_command(const Options& options);

}  // namespace c2w::client
