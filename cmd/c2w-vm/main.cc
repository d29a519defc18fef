// c2w-vm: a c2w container machine run natively (emulators/runtime/container_vm.h).
//
//   c2w-vm boot --kernel Image --initrd FILE --snapshot FILE [--memory 256M] [--append ARGS]
//               [--timeout SECONDS] [--console]
//     boots until guest init reports ready and writes the snapshot (the snapshot-boot op).
//   c2w-vm run (--restore FILE | --kernel Image --initrd FILE [--memory SIZE] [--append ARGS])
//              [--dir HOST::GUEST[:ro]]... [--env K=V]... [--console] [--] [RUNTIME ARGS...]
//     runs the container the way out.wasm does (same flags after the runner's own).
// Exit status: boot 0, 1 when the guest stopped or failed before ready, 124 on --timeout,
// 64 on bad usage; run: the container's status (125 when the machine fails).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "emulators/common/host.h"
#include "emulators/common/runner_args.h"
#include "emulators/riscv64/machine.h"
#include "emulators/runtime/boot.h"
#include "emulators/runtime/container_vm.h"
#include "emulators/runtime/launch.h"
#include "emulators/virtio/p9_device.h"

namespace {

using c2w::rv64::Machine;
namespace rt = c2w::runtime;

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "c2w-vm: %s\n"
               "usage: c2w-vm boot --kernel Image --initrd FILE --snapshot FILE [--memory SIZE] "
               "[--append ARGS] [--timeout SECONDS] [--console]\n"
               "       c2w-vm run (--restore FILE | --kernel Image --initrd FILE) "
               "[--dir HOST::GUEST[:ro]]... [--env K=V]... [--console] [--] [ARGS...]\n",
               why.c_str());
  std::exit(64);
}

struct Flags {
  std::string kernel, initrd, restore, append;
  uint64_t memory = rt::kDefaultRam;
  bool console = false;
  std::vector<rt::HostShare> shares;
  std::vector<std::string> env, rest;
};

Flags parse(int argc, char** argv) {
  Flags f;
  int i = 2;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value for " + a);
      return argv[++i];
    };
    if (a == "--kernel") f.kernel = value();
    else if (a == "--initrd") f.initrd = value();
    else if (a == "--append") f.append = value();
    else if (a == "--console") f.console = true;
    else if (a == "--memory") {
      if (!c2w::emu::parse_size(value(), &f.memory)) usage("bad --memory (use e.g. 256M)");
    } else if (a == "--restore") f.restore = value();
    else if (a == "--env") f.env.push_back(value());
    else if (a == "--dir") {
      std::string v = value();
      rt::HostShare s;
      if (v.size() > 3 && v.compare(v.size() - 3, 3, ":ro") == 0) {
        s.read_only = true;
        v.resize(v.size() - 3);
      }
      const size_t sep = v.find("::");
      s.host_path = v.substr(0, sep);
      s.guest_path = sep == std::string::npos ? v : v.substr(sep + 2);
      f.shares.push_back(s);
    } else if (a == "--") {
      ++i;
      break;
    } else {
      break;  // the runtime's flags and the container's command
    }
  }
  for (; i < argc; ++i) f.rest.emplace_back(argv[i]);
  return f;
}

std::unique_ptr<Machine> boot_machine(const Flags& f, c2w::emu::Host& host,
                                      std::vector<c2w::virtio::P9Device*>* slots) {
  c2w::rv64::MachineConfig config =
      rt::container_config(f.memory, rt::container_bootargs(f.append));
  for (auto& d : config.extra_devices)
    slots->push_back(static_cast<c2w::virtio::P9Device*>(d.get()));
  if (!c2w::emu::read_whole_file(f.kernel, &config.kernel)) usage("cannot read kernel " + f.kernel);
  if (!c2w::emu::read_whole_file(f.initrd, &config.initrd)) usage("cannot read initrd " + f.initrd);
  std::string error;
  auto m = Machine::create(std::move(config), host, &error);
  if (!m) std::fprintf(stderr, "c2w-vm: %s\n", error.c_str());
  return m;
}

int run(const Flags& f) {
  c2w::emu::PosixHost host;
  std::vector<c2w::virtio::P9Device*> slots;
  std::unique_ptr<Machine> m;
  rt::Launch l;
  l.program = "c2w-vm run";
  l.args = f.rest;
  l.env = f.env;
  l.shares = f.shares;
  l.session.echo_console = f.console;
  if (!f.restore.empty()) {
    std::vector<uint8_t> snap;
    if (!c2w::emu::read_whole_file(f.restore, &snap)) usage("cannot read snapshot " + f.restore);
    auto devices = rt::make_share_devices();
    for (auto& d : devices) slots.push_back(static_cast<c2w::virtio::P9Device*>(d.get()));
    std::string error;
    m = Machine::restore(snap.data(), snap.size(), host, &error, std::move(devices));
    if (!m) {
      std::fprintf(stderr, "c2w-vm: cannot restore %s: %s\n", f.restore.c_str(), error.c_str());
      return rt::kFailed;
    }
  } else {
    if (f.kernel.empty() || f.initrd.empty()) usage("run needs --restore or --kernel and --initrd");
    m = boot_machine(f, host, &slots);
    if (!m) return rt::kFailed;
    l.session.wait_for_ready = true;
  }
  rt::PosixStdio io;
  return rt::launch(*m, slots, l, io, host);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("missing command");
  const std::string cmd = argv[1];
  if (cmd == "boot") return rt::boot_vm_main(argc - 1, argv + 1);
  if (cmd == "run") return run(parse(argc, argv));
  usage("unknown command " + cmd);
}
