#include "runtime/boot.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "emulators/common/chunked_image.h"
#include "emulators/common/host.h"
#include "emulators/common/runner_args.h"
#include "emulators/riscv64/machine.h"
#include "guest_protocol/protocol.h"
#include "runtime/container_vm.h"

namespace c2w::runtime {
namespace {

constexpr uint64_t kSlice = 20'000'000;
constexpr int64_t kEpochNs = 1'700'000'000'000'000'000;  // a fixed wall clock for the boot
constexpr uint64_t kSeed = 0x6332772d626f6f74;           // "c2w-boot"

}  // namespace

BootResult boot_to_ready(const BootSpec& spec,
                         const std::function<void(std::string_view)>& console) {
  BootResult res;
  emulators::VirtualHost vhost(kEpochNs, kSeed);
  emulators::PosixHost wall;
  const std::string extra =
      spec.disk ? std::string(kDiskBootarg) + (spec.append.empty() ? "" : " " + spec.append)
                : spec.append;
  riscv64::MachineConfig config = container_config(spec.memory, container_bootargs(extra));
  config.kernel = spec.kernel;
  config.initrd = spec.initrd;
  config.disk = spec.disk;
  auto m = riscv64::Machine::create(std::move(config), vhost, &res.error);
  if (!m) return res;
  vhost.follow(&m->cpu().cycle);
  m->set_snapshot_marker(guest_protocol::encode(guest_protocol::Ready{}));
  const uint64_t start = wall.monotonic_ns();
  for (;;) {
    const riscv64::RunResult r = m->run(kSlice);
    const std::string out = m->take_console_output();
    if (!out.empty()) {
      if (console) console(out);
      res.console_tail += out;
      if (res.console_tail.size() > 8192) res.console_tail.erase(0, res.console_tail.size() - 4096);
    }
    for (unsigned p = 0; p < m->num_ports(); ++p) m->take_port_output(p);
    if (r.stop == riscv64::Stop::kMarker) break;
    if (r.stop == riscv64::Stop::kHalted) {
      res.error = m->rebooted() ? "the guest rebooted before init was ready (kernel panic?)"
                                : "the guest powered off before init was ready";
      return res;
    }
    if (r.stop == riscv64::Stop::kError) {
      res.error = "emulator error: " + m->error();
      return res;
    }
    if (r.stop == riscv64::Stop::kIdle) vhost.advance_to(r.deadline_ns);
    if (spec.timeout_s > 0 &&
        static_cast<double>(wall.monotonic_ns() - start) / 1e9 > spec.timeout_s) {
      res.status = BootResult::Status::kTimeout;
      res.error =
          "init was not ready within " + std::to_string(static_cast<int>(spec.timeout_s)) + " s";
      return res;
    }
  }
  res.instructions = m->cpu().cycle;
  res.guest_seconds = static_cast<double>(vhost.monotonic_ns()) / 1e9;
  res.snapshot = m->save();
  res.status = BootResult::Status::kReady;
  return res;
}

namespace {

[[noreturn]] void boot_usage(const std::string& why) {
  std::fprintf(
      stderr,
      "%s\nusage: boot --kernel Image --initrd FILE --snapshot FILE [--memory SIZE] [--disk FILE] "
      "[--append ARGS] [--timeout SECONDS] [--console]\n",
      why.c_str());
  std::exit(64);
}

}  // namespace

int boot_vm_main(int argc, char** argv) {
  emulators::MachineFlags machine;
  std::string snapshot, error;
  bool echo = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const emulators::FlagTaken taken =
        emulators::take_machine_flag(argc, argv, &i, &machine, &error);
    if (taken == emulators::FlagTaken::kBad) boot_usage(error);
    if (taken == emulators::FlagTaken::kYes) continue;
    if (a == "--snapshot" && i + 1 < argc)
      snapshot = argv[++i];
    else if (a == "--console")
      echo = true;
    else
      boot_usage(a == "--snapshot" ? "missing value for --snapshot" : "unknown argument " + a);
  }
  if (machine.kernel.empty() || machine.initrd.empty() || snapshot.empty())
    boot_usage("--kernel, --initrd and --snapshot are required");
  BootSpec spec;
  spec.memory = machine.memory ? machine.memory : kDefaultRam;
  spec.append = machine.append;
  if (machine.timeout_s > 0) spec.timeout_s = machine.timeout_s;
  if (!emulators::read_boot_files(machine, &spec.kernel, &spec.initrd, &error)) boot_usage(error);
  std::unique_ptr<emulators::BlockSource> disk;
  if (!machine.disk.empty()) {
    disk = emulators::open_disk(machine.disk, &error);
    if (!disk) boot_usage("cannot use the disk " + error);
    spec.disk = disk.get();
  }

  const BootResult r = boot_to_ready(spec, [&](std::string_view s) {
    if (echo) std::fwrite(s.data(), 1, s.size(), stderr);
  });
  if (r.status != BootResult::Status::kReady) {
    if (!echo) std::fwrite(r.console_tail.data(), 1, r.console_tail.size(), stderr);
    std::fprintf(stderr, "\nboot: %s\n", r.error.c_str());
    return r.status == BootResult::Status::kTimeout ? 124 : 1;
  }
  const std::string tmp = snapshot + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(r.snapshot.data()),
            static_cast<std::streamsize>(r.snapshot.size()));
  out.close();
  if (!out || std::rename(tmp.c_str(), snapshot.c_str()) != 0) {
    std::remove(tmp.c_str());
    std::fprintf(stderr, "boot: cannot write %s (disk full?)\n", snapshot.c_str());
    return 1;
  }
  std::printf("ready after %.2f s of guest time, %llu instructions; snapshot %zu bytes\n",
              r.guest_seconds, static_cast<unsigned long long>(r.instructions), r.snapshot.size());
  return 0;
}

}  // namespace c2w::runtime
