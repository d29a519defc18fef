// What the Linux boot tests share: the kernel and busybox fixtures, initramfs images made from
// the busybox tree plus an init script, and c2w-emu runs through a shell with their output
// captured. The kernel comes from $C2W_KERNEL (default: the kernel.build fixture); tests fail
// with a clear message when a fixture is missing.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/newc.h"
#include "tests/support/process.h"

namespace c2w::testing::boot {

namespace fs = std::filesystem;

inline std::string kernel_path() {
  const char* k = std::getenv("C2W_KERNEL");
  return k && *k ? k : C2W_KERNEL_IMAGE;
}

inline fs::path busybox_root() {
  const char* f = std::getenv("C2W_FIXTURES");
  return fs::path(f ? f : "") / "busybox" / "rootfs";
}

inline std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

struct ShellRun {
  int status = -1;
  std::string out, err;
  double seconds = 0;
};

// Runs a shell command line with stdout and stderr captured separately.
inline ShellRun shell(const std::string& cmd, const fs::path& dir) {
  const fs::path out = dir / "stdout", err = dir / "stderr";
  const auto start = std::chrono::steady_clock::now();
  const int rc = std::system(("( " + cmd + " ) >" + out.string() + " 2>" + err.string()).c_str());
  ShellRun r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

inline std::string q(const std::string& s) {
  return "'" + s + "'";
}

inline constexpr char kMounts[] =
    "export PATH=/bin:/sbin:/usr/bin:/usr/sbin\n"
    "mount -t proc proc /proc\n"
    "mount -t sysfs sys /sys\n"
    "mount -t devtmpfs dev /dev\n";

// Checks the fixtures exist; makes initramfs images and c2w-emu command lines.
class BootFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kernel_path()))
      GTEST_FAIL() << "no riscv64 kernel Image at " << kernel_path()
                   << ": set C2W_KERNEL to a Linux 6.1 Image built with kernel/riscv64.config";
    if (!fs::exists(busybox_root() / "bin" / "busybox"))
      GTEST_FAIL() << "no busybox fixture at " << busybox_root() << " (ctest runs fixtures.build)";
  }
  fs::path initramfs(const std::string& init) {
    const fs::path p = tmp.path() / "rootfs.cpio";
    const std::vector<uint8_t> data =
        c2w::testing::busybox_initramfs(busybox_root(), kMounts + init);
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()),
               static_cast<std::streamsize>(data.size()));
    return p;
  }
  std::string emu(const std::string& args) {
    return std::string(C2W_EMU_PATH) + " --append 'console=hvc0 earlycon=sbi' --memory 256M " +
           "--timeout 300 " + args;
  }
  c2w::testing::TempDir tmp{"c2w-boot"};
};

}  // namespace c2w::testing::boot
