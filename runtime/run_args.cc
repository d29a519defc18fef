#include "runtime/run_args.h"

namespace c2w::runtime {

bool parse_run_args(const std::vector<std::string>& args, RunArgs* out, std::string* error) {
  guest_protocol::RunRequest& req = out->request;
  req.stdin_open = true;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.rfind("--entrypoint=", 0) == 0) {
      req.entrypoint_set = true;
      req.entrypoint = {a.substr(13)};
    } else if (a == "--entrypoint") {
      if (i + 1 >= args.size()) return *error = "--entrypoint needs a command", false;
      req.entrypoint_set = true;
      req.entrypoint = {args[++i]};
    } else if (a == "--no-stdin") {
      req.stdin_open = false;
    } else if (a == "--debug-init") {
      req.debug = true;
    } else if (a == "--help" || a == "-h") {
      out->help = true;
    } else {
      // Anything else starts the container's arguments, as with `docker run IMAGE ARGS`: an
      // image with an Entrypoint takes its own flags (`out.wasm --verbose`).
      break;
    }
  }
  if (i < args.size()) {
    req.args_set = true;
    req.args.assign(args.begin() + static_cast<long>(i), args.end());
  }
  if (req.entrypoint_set && req.entrypoint[0].empty())
    return *error = "--entrypoint needs a command", false;
  return true;
}

std::string run_usage(const std::string& program) {
  return "usage: " + program +
         " [--entrypoint=CMD] [--no-stdin] [--debug-init] [--] [COMMAND [ARG...]]\n"
         "  COMMAND replaces the image's Cmd, --entrypoint its Entrypoint. Environment\n"
         "  variables of the WASI runtime are passed to the container; each preopened\n"
         "  directory is shared read-write at its guest path.\n";
}

}  // namespace c2w::runtime
