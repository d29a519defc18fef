// Boot-to-userland time and guest MIPS of the riscv64 machine on the busybox fixture, and the
// same boot on qemu-system-riscv64 (TCG, OpenSBI) for scale. Prints figures; never fails.
//
//   riscv64_boot_bench [KERNEL] [BUSYBOX_ROOTFS]
// defaults: $C2W_KERNEL or ~/.cache/c2w-fixtures/kernel-riscv64/Image, and
// $C2W_FIXTURES/busybox/rootfs (or ~/.cache/c2w-fixtures/busybox/rootfs).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include "emulators/common/host.h"
#include "emulators/riscv64/machine.h"
#include "tests/support/newc.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr char kInit[] =
    "export PATH=/bin:/sbin\n"
    "echo C2W-USERLAND\n"
    "mount -t proc proc /proc\n"
    "busybox sh -c 'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; echo loop-done'\n"
    "poweroff -f\n";

void bench_c2w(const std::vector<uint8_t>& kernel, const std::vector<uint8_t>& initrd) {
  c2w::emulators::PosixHost host;
  c2w::riscv64::MachineConfig config;
  config.ram_size = 256 << 20;
  config.bootargs = "console=hvc0 earlycon=sbi quiet";
  config.kernel = kernel;
  config.initrd = initrd;
  const auto start = Clock::now();
  std::string err;
  auto m = c2w::riscv64::Machine::create(std::move(config), host, &err);
  if (!m) {
    std::printf("c2w: cannot create the machine: %s\n", err.c_str());
    return;
  }
  m->set_snapshot_marker("C2W-USERLAND");
  double busy = 0, userland = 0;
  uint64_t insns_userland = 0;
  for (;;) {
    const auto t = Clock::now();
    const c2w::riscv64::RunResult r = m->run(50'000'000);
    busy += since(t);
    m->take_console_output();
    if (r.stop == c2w::riscv64::Stop::kMarker) {
      userland = since(start);
      insns_userland = m->cpu().instret;
      m->set_snapshot_marker("");
    } else if (r.stop == c2w::riscv64::Stop::kIdle) {
      const uint64_t now = host.monotonic_ns();
      if (r.deadline_ns > now)
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::min<uint64_t>(r.deadline_ns - now, 100'000'000)));
    } else if (r.stop == c2w::riscv64::Stop::kHalted || r.stop == c2w::riscv64::Stop::kError) {
      break;
    }
    if (since(start) > 600) {
      std::printf("c2w: gave up after 600 s\n");
      return;
    }
  }
  const double total = since(start);
  std::printf(
      "c2w-emu (native)   boot to userland %6.2f s (%.0f M instructions), to poweroff "
      "%6.2f s; %.1f guest MIPS while running (%.0f M instructions in %.2f s busy)\n",
      userland, static_cast<double>(insns_userland) / 1e6, total,
      static_cast<double>(m->cpu().instret) / busy / 1e6,
      static_cast<double>(m->cpu().instret) / 1e6, busy);
}

void bench_qemu(const std::string& kernel, const std::string& cpio) {
  if (std::system("command -v qemu-system-riscv64 >/dev/null 2>&1") != 0) {
    std::printf("qemu-system-riscv64 not installed: no reference figure\n");
    return;
  }
  const std::string cmd =
      "timeout 600 qemu-system-riscv64 -M virt -bios default -m 256M "
      "-nographic -no-reboot -kernel '" +
      kernel + "' -initrd '" + cpio + "' -append 'console=hvc0 earlycon=sbi quiet' </dev/null 2>&1";
  const auto start = Clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return;
  std::string window;
  double userland = 0;
  int c;
  while ((c = std::fgetc(p)) != EOF) {
    window.push_back(static_cast<char>(c));
    if (!userland && window.find("C2W-USERLAND") != std::string::npos) userland = since(start);
    if (window.size() > 256) window.erase(0, 128);
  }
  pclose(p);
  std::printf(
      "qemu-system-riscv64 boot to userland %6.2f s, to poweroff %6.2f s (TCG, with "
      "OpenSBI)\n",
      userland, since(start));
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_kernel = std::getenv("C2W_KERNEL");
  const std::string kernel = argc > 1 ? argv[1]
                             : env_kernel && *env_kernel
                                 ? env_kernel
                                 : std::string(getenv("HOME") ? getenv("HOME") : "/root") +
                                       "/.cache/c2w-fixtures/kernel-riscv64/Image";
  const char* fixtures = std::getenv("C2W_FIXTURES");
  const char* home = std::getenv("HOME");
  const fs::path rootfs =
      argc > 2
          ? fs::path(argv[2])
          : (fixtures ? fs::path(fixtures) : fs::path(home ? home : "") / ".cache/c2w-fixtures") /
                "busybox" / "rootfs";
  std::ifstream kf(kernel, std::ios::binary);
  if (!kf || !fs::exists(rootfs / "bin" / "busybox")) {
    std::printf("riscv64_boot_bench: need a kernel (%s) and the busybox fixture (%s)\n",
                kernel.c_str(), rootfs.c_str());
    return 0;
  }
  const std::vector<uint8_t> kernel_bytes(std::istreambuf_iterator<char>(kf), {});
  const std::vector<uint8_t> cpio = c2w::testing::busybox_initramfs(rootfs, kInit);
  const std::string cpio_path =
      (fs::temp_directory_path() / ("c2w-boot-bench-" + std::to_string(getpid()) + ".cpio"))
          .string();
  std::ofstream(cpio_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(cpio.data()), static_cast<std::streamsize>(cpio.size()));
  std::printf("kernel %s (%zu KiB), initramfs %zu KiB\n", kernel.c_str(), kernel_bytes.size() >> 10,
              cpio.size() >> 10);
  bench_c2w(kernel_bytes, cpio);
  bench_qemu(kernel, cpio_path);
  fs::remove(cpio_path);
  return 0;
}
