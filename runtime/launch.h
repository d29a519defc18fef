// Starting a container on a machine that is booted or restored to init's "ready": binds host
// directories to the machine's share devices, turns the runtime's command line and
// environment into the run request, and runs the session. Shared by the wasm32 module
// (cmd/c2w-runtime) and the native runner (cmd/c2w-vm) so both behave the same.
#pragma once

#include <string>
#include <vector>

#include "runtime/session.h"

namespace c2w::virtio {
class P9Device;
}

namespace c2w::runtime {

struct HostShare {
  std::string host_path;   // what the host opens (under WASI: the preopen's name)
  std::string guest_path;  // absolute path in the container
  bool read_only = false;
};

struct Launch {
  std::string program;            // for usage messages
  std::vector<std::string> args;  // the runtime's flags and the container command (no argv[0])
  std::vector<std::string> env;   // KEY=VALUE, appended to the image's Env
  std::vector<HostShare> shares;
  SessionOptions session;
};

// `slots` are the machine's share devices in slot order (make_share_devices()).
int launch(riscv64::Machine& m, const std::vector<virtio::P9Device*>& slots, const Launch& launch,
           Stdio& io, emulators::Host& host);

}  // namespace c2w::runtime
