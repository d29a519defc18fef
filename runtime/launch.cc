#include "runtime/launch.h"

#include <cstdlib>
#include <cstring>

#include "emulators/p9/posix_fs.h"
#include "emulators/virtio/p9_device.h"
#include "runtime/run_args.h"

namespace c2w::runtime {
namespace {

uint16_t env_number(const std::vector<std::string>& env, const std::string& key, uint16_t dflt) {
  for (const std::string& e : env)
    if (e.rfind(key + "=", 0) == 0) {
      const long v = std::strtol(e.c_str() + key.size() + 1, nullptr, 10);
      if (v > 0 && v < 10000) return static_cast<uint16_t>(v);
    }
  return dflt;
}

}  // namespace

int launch(riscv64::Machine& m, const std::vector<virtio::P9Device*>& slots, const Launch& l,
           Stdio& io, emulators::Host& host) {
  RunArgs parsed;
  std::string error;
  if (!parse_run_args(l.args, &parsed, &error)) {
    io.write(2, l.program + ": " + error + "\n" + run_usage(l.program));
    return 2;
  }
  if (parsed.help) {
    io.write(1, run_usage(l.program));
    return 0;
  }
  guest_protocol::RunRequest req = parsed.request;
  req.env = l.env;
  if (l.shares.size() > slots.size()) {
    io.write(2, l.program + ": at most " + std::to_string(slots.size()) +
                    " directories can be shared, " + std::to_string(l.shares.size()) +
                    " were given\n");
    return kFailed;
  }
  for (size_t i = 0; i < l.shares.size(); ++i) {
    const HostShare& s = l.shares[i];
    if (s.guest_path.empty() || s.guest_path[0] != '/') {
      io.write(2, l.program + ": cannot share " + s.host_path + " at '" + s.guest_path +
                      "': the guest path must be absolute\n");
      return kFailed;
    }
    std::unique_ptr<p9::PosixFs> fs;
    if (const int e = p9::PosixFs::create_share(s.host_path.c_str(), &fs)) {
      io.write(2, l.program + ": cannot share " + s.host_path + ": " + std::strerror(e) + "\n");
      return kFailed;
    }
    p9::ServerOptions opts;
    opts.read_only = s.read_only;
    if (const int e = slots[i]->bind(std::move(fs), opts)) {
      io.write(
          2, l.program + ": cannot share " + s.host_path + " (error " + std::to_string(e) + ")\n");
      return kFailed;
    }
    req.mounts.push_back({slots[i]->tag(), s.guest_path, s.read_only});
  }
  req.terminal = req.stdin_open && io.stdin_is_terminal();
  req.rows = env_number(l.env, "LINES", 24);
  req.cols = env_number(l.env, "COLUMNS", 80);
  Session session(m, find_ports(m), io, host, l.session);
  return session.run(std::move(req));
}

}  // namespace c2w::runtime
