// The command line of a converted container, as container2wasm's modules take it:
//
//   out.wasm [--entrypoint=CMD | --entrypoint CMD] [--no-stdin] [--debug-init] [--]
//            [COMMAND [ARG...]]
//
// COMMAND and ARGs replace the image's Cmd; --entrypoint replaces its Entrypoint (one
// executable, as `docker run --entrypoint`); --no-stdin gives the container /dev/null as stdin.
// Everything from the first word that is not one of these flags (or after `--`) belongs to the
// container, so `out.wasm ls --help` runs `ls --help` and `out.wasm --verbose` passes --verbose
// to the image's Entrypoint.
#pragma once

#include <string>
#include <vector>

#include "guest_protocol/protocol.h"

namespace c2w::runtime {

struct RunArgs {
  guest_protocol::RunRequest
      request;  // args, entrypoint, stdin_open, debug; the caller adds the rest
  bool help = false;
};

// args excludes the program name. Returns false with *error naming the bad flag.
bool parse_run_args(const std::vector<std::string>& args, RunArgs* out, std::string* error);

std::string run_usage(const std::string& program);

}  // namespace c2w::runtime
