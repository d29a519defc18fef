// c2w-vm: a c2w container machine run natively (runtime/container_vm.h).
//
//   c2w-vm boot --kernel Image --initrd FILE --snapshot FILE [--memory 256M] [--append ARGS]
//               [--disk FILE] [--timeout SECONDS] [--console]
//     boots until guest init reports ready and writes the snapshot (the boot op).
//   c2w-vm run (--restore FILE | --kernel Image --initrd FILE [--memory SIZE] [--append ARGS])
//              [--disk FILE] [--dir HOST::GUEST[:ro]]... [--env K=V]... [--console] [--]
//              [RUNTIME ARGS...]
//     runs the container the way out.wasm does (same flags after the runner's own).
// --disk: the container's files as a read-only disk (raw EROFS or a chunked image of it);
// a snapshot made with a disk restores only with that disk.
// Exit status: boot 0, 1 when the guest stopped or failed before ready, 124 on --timeout,
// 64 on bad usage; run: the container's status (125 when the machine fails).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "emulators/common/chunked_image.h"
#include "emulators/common/host.h"
#include "emulators/common/runner_args.h"
#include "emulators/riscv64/machine.h"
#include "emulators/virtio/p9_device.h"
#include "runtime/boot.h"
#include "runtime/container_vm.h"
#include "runtime/launch.h"

namespace {

using c2w::riscv64::Machine;
namespace rt = c2w::runtime;

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      stderr,
      "c2w-vm: %s\n"
      "usage: c2w-vm boot --kernel Image --initrd FILE --snapshot FILE [--memory SIZE] "
      "[--append ARGS] [--disk FILE] [--timeout SECONDS] [--console]\n"
      "       c2w-vm run (--restore FILE | --kernel Image --initrd FILE) "
      "[--disk FILE] [--dir HOST::GUEST[:ro]]... [--env K=V]... [--console] [--] [ARGS...]\n",
      why.c_str());
  std::exit(64);
}

struct Flags {
  c2w::emulators::MachineFlags machine;
  std::string restore;
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
    std::string error;
    const auto taken = c2w::emulators::take_machine_flag(argc, argv, &i, &f.machine, &error);
    if (taken == c2w::emulators::FlagTaken::kBad) usage(error);
    if (taken == c2w::emulators::FlagTaken::kYes) continue;
    if (a == "--console")
      f.console = true;
    else if (a == "--restore")
      f.restore = value();
    else if (a == "--env")
      f.env.push_back(value());
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
  if (f.machine.timeout_s > 0) usage("--timeout is a flag of boot, not of run");
  return f;
}

std::unique_ptr<Machine> boot_machine(const Flags& f, c2w::emulators::Host& host,
                                      std::vector<c2w::virtio::P9Device*>* slots,
                                      c2w::emulators::BlockSource* disk) {
  std::string extra = f.machine.append;
  if (disk) extra = std::string(rt::kDiskBootarg) + (extra.empty() ? "" : " " + extra);
  c2w::riscv64::MachineConfig config = rt::container_config(
      f.machine.memory ? f.machine.memory : rt::kDefaultRam, rt::container_bootargs(extra));
  config.disk = disk;
  for (auto& d : config.extra_devices)
    slots->push_back(static_cast<c2w::virtio::P9Device*>(d.get()));
  std::string error;
  if (!c2w::emulators::read_boot_files(f.machine, &config.kernel, &config.initrd, &error))
    usage(error);
  auto m = Machine::create(std::move(config), host, &error);
  if (!m) std::fprintf(stderr, "c2w-vm: %s\n", error.c_str());
  return m;
}

int run(const Flags& f) {
  c2w::emulators::PosixHost host;
  std::vector<c2w::virtio::P9Device*> slots;
  std::unique_ptr<Machine> m;
  rt::Launch l;
  l.program = "c2w-vm run";
  l.args = f.rest;
  l.env = f.env;
  l.shares = f.shares;
  l.session.echo_console = f.console;
  std::unique_ptr<c2w::emulators::BlockSource> disk;
  if (!f.machine.disk.empty()) {
    std::string error;
    disk = c2w::emulators::open_disk(f.machine.disk, &error);
    if (!disk) usage("cannot use the disk " + error);
  }
  if (!f.restore.empty()) {
    std::vector<uint8_t> snap;
    if (!c2w::emulators::read_whole_file(f.restore, &snap))
      usage("cannot read snapshot " + f.restore);
    auto devices = rt::make_share_devices();
    for (auto& d : devices) slots.push_back(static_cast<c2w::virtio::P9Device*>(d.get()));
    std::string error;
    m = Machine::restore(snap.data(), snap.size(), host, &error, std::move(devices), nullptr,
                         disk.get());
    if (!m) {
      std::fprintf(stderr, "c2w-vm: cannot restore %s: %s\n", f.restore.c_str(), error.c_str());
      return rt::kFailed;
    }
  } else {
    if (f.machine.kernel.empty() || f.machine.initrd.empty())
      usage("run needs --restore or --kernel and --initrd");
    m = boot_machine(f, host, &slots, disk.get());
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
