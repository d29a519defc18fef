// Boots Linux on the riscv64 machine through the c2w-emu runner, and the same kernel and
// initramfs on qemu-system-riscv64 as an independent check; then boot -> snapshot -> restore in
// a new process -> run a command, compared with a run without the snapshot.
//
// The kernel comes from $C2W_KERNEL (default: the kernel.build fixture, built by c2w's own
// kernel op); tests fail with a clear message when it is missing. The initramfs is built at
// test time from the busybox fixture.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "emulators/common/block_source.h"
#include "emulators/common/chunked_image_writer.h"
#include "oci/sha256.h"
#include "tests/integration/riscv64_boot_support.h"
#include "tests/support/newc.h"
#include "tests/support/process.h"

namespace {

using namespace c2w::testing::boot;

const char kBootInit[] =
    "busybox sh -c 'echo ok; ls /'\n"
    "for p in /sys/class/virtio-ports/*; do echo \"port $(basename $p)=$(cat $p/name)\"; done\n"
    "for p in /dev/vport*; do echo 'hello from the guest' > $p; done\n"
    "echo 'via hvc1' > /dev/hvc1\n"
    "echo \"hwrng $(cat /sys/class/misc/hw_random/rng_current)\"\n"
    "echo \"random bytes $(head -c 8 /dev/hwrng | wc -c)\"\n"
    "poweroff -f\n";

class BootTest : public BootFixture {
 protected:
  static void expect_busybox_ran(std::string out) {
    // Terminal line endings differ (qemu's UART adds its own \r): compare lines.
    std::erase(out, '\r');
    EXPECT_NE(out.find("\nok\n"), std::string::npos) << out;
    for (const char* d : {"bin", "dev", "init", "proc", "sys", "usr"})
      EXPECT_NE(out.find(d), std::string::npos) << d << " missing from the listing:\n" << out;
    EXPECT_NE(out.find("hwrng virtio_rng.0"), std::string::npos) << out;
    EXPECT_NE(out.find("random bytes 8"), std::string::npos) << out;
    // The kernel config has no RTC sysfs or /dev interface, so only the probe is visible.
    EXPECT_NE(out.find("goldfish_rtc 101000.rtc: registered as rtc0"), std::string::npos) << out;
  }
};

TEST_F(BootTest, BusyboxOnC2wEmu) {
  const fs::path cpio = initramfs(kBootInit);
  const fs::path port = tmp.path() / "control.out";
  const ShellRun r = shell(emu("--kernel " + q(kernel_path()) + " --initrd " + q(cpio) +
                               " --port c2w.control=" + q(port) + " </dev/null"),
                           tmp.path());
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  expect_busybox_ran(r.out);
  EXPECT_NE(r.out.find("port vport0p1=c2w.control"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(port), "hello from the guest\n");
  EXPECT_NE(r.out.find("via hvc1"), std::string::npos) << "virtio console port 0 is hvc1";
  EXPECT_NE(r.out.find("SBI specification v2.0 detected"), std::string::npos);
  std::printf("c2w-emu: boot to poweroff in %.1f s\n", r.seconds);
}

TEST_F(BootTest, BusyboxOnQemu) {
  const fs::path cpio = initramfs(kBootInit);
  const fs::path port = tmp.path() / "control.out";
  const ShellRun r = shell(
      "timeout 300 qemu-system-riscv64 -M virt -bios default -m 256M -nographic -no-reboot "
      "-kernel " +
          q(kernel_path()) + " -initrd " + q(cpio) +
          " -append 'console=hvc0 earlycon=sbi' -device virtio-rng-device "
          "-device virtio-serial-device -chardev file,id=c0,path=" +
          q(port) + " -device virtserialport,chardev=c0,name=c2w.control </dev/null",
      tmp.path());
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  expect_busybox_ran(r.out);
  EXPECT_NE(r.out.find("=c2w.control"), std::string::npos) << r.out;
  EXPECT_EQ(read_text(port), "hello from the guest\n");
  std::printf("qemu: boot to poweroff in %.1f s\n", r.seconds);
}

// The command's output lies between X2Y and Z3W (the shell computes them, so the echo of
// the typed command line cannot match).
std::string command_output(const std::string& out) {
  const size_t a = out.find("X2Y"), b = out.find("Z3W");
  if (a == std::string::npos || b == std::string::npos || b < a) return "<no command output>";
  return out.substr(a, b - a);
}

TEST_F(BootTest, SnapshotRestoreInANewProcess) {
  const fs::path cpio = initramfs(
      "stty -echo\n"  // the typed command would be echoed at unpredictable times
      "echo C2W-SNAPSHOT-READY\n"
      "read line\n"
      "eval \"$line\" >/dev/vport0p1 2>&1\n"
      "poweroff -f\n");
  const fs::path cmd = tmp.path() / "cmd";
  std::ofstream(cmd) << "echo X$((1+1))Y; ls /; cat /proc/uptime >/dev/null; echo Z$((2+1))W\n";
  const fs::path snap = tmp.path() / "boot.snap";
  const std::string boot = "--kernel " + q(kernel_path()) + " --initrd " + q(cpio);

  const fs::path plain_port = tmp.path() / "plain.port",
                 restored_port = tmp.path() / "restored.port";
  const ShellRun plain =
      shell(emu(boot + " --port c2w.control=" + q(plain_port) + " <" + q(cmd)), tmp.path());
  ASSERT_EQ(plain.status, 0) << plain.err << plain.out;

  const ShellRun save = shell(
      emu(boot + " --port c2w.control=/dev/null --snapshot-at C2W-SNAPSHOT-READY --snapshot " +
          q(snap) + " </dev/null"),
      tmp.path());
  ASSERT_EQ(save.status, 0) << save.err << save.out;
  ASSERT_TRUE(fs::exists(snap)) << save.err;
  EXPECT_NE(save.out.find("C2W-SNAPSHOT-READY"), std::string::npos);

  const ShellRun restored =
      shell(std::string(C2W_EMU_PATH) + " --timeout 300 --restore " + q(snap) +
                " --port c2w.control=" + q(restored_port) + " <" + q(cmd),
            tmp.path());
  ASSERT_EQ(restored.status, 0) << restored.err << restored.out;
  EXPECT_EQ(restored.out.find("Linux version"), std::string::npos) << "it booted again";
  const std::string expected = command_output(read_text(plain_port));
  EXPECT_NE(expected, "<no command output>") << plain.out;
  EXPECT_NE(expected.find("linuxrc"), std::string::npos) << expected;
  EXPECT_EQ(command_output(read_text(restored_port)), expected)
      << restored.out << "\nport: " << read_text(restored_port);

  // The wasm32 build continues the same snapshot.
  const ShellRun wasm =
      shell("node --no-warnings " + q(C2W_SOURCE_DIR "/tools/c2w-run.mjs") + " " +
                q(C2W_WASM_DIR "/tests/wasm/riscv64_restore.wasm") + " --dir " +
                q(tmp.path().string() + "::/data") + " -- /data/boot.snap <" + q(cmd),
            tmp.path());
  EXPECT_EQ(wasm.status, 0) << wasm.err << wasm.out;
  EXPECT_EQ(command_output(wasm.out), expected) << wasm.out;
  std::printf(
      "snapshot %.1f MiB; boot+command %.1f s, boot to snapshot %.1f s, "
      "restore+command %.1f s (wasm32 on node: %.1f s)\n",
      static_cast<double>(fs::file_size(snap)) / (1 << 20), plain.seconds, save.seconds,
      restored.seconds, wasm.seconds);
}

TEST_F(BootTest, KernelPanicIsReportedWithItsOwnStatus) {
  const fs::path cpio = initramfs("exit 3\n");  // init dies: "Attempted to kill init!"
  const ShellRun r = shell(
      emu("--kernel " + q(kernel_path()) + " --initrd " + q(cpio) + " </dev/null"), tmp.path());
  EXPECT_EQ(r.status, 2) << r.err << r.out;
  EXPECT_NE(r.out.find("Kernel panic - not syncing"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("the guest kernel panicked"), std::string::npos) << r.err;
}

TEST_F(BootTest, IdleGuestSleepsAndTimeoutEndsIt) {
  const fs::path cpio = initramfs("echo sleeping\nsleep 1000\n");
  struct rusage before {};
  getrusage(RUSAGE_CHILDREN, &before);
  const ShellRun r = shell(std::string(C2W_EMU_PATH) + " --append 'console=hvc0 earlycon=sbi' " +
                               "--timeout 10 --kernel " + q(kernel_path()) + " --initrd " +
                               q(cpio) + " </dev/null",
                           tmp.path());
  struct rusage after {};
  getrusage(RUSAGE_CHILDREN, &after);
  const auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  };
  const double cpu =
      secs(after.ru_utime) - secs(before.ru_utime) + secs(after.ru_stime) - secs(before.ru_stime);
  EXPECT_EQ(r.status, 124) << r.err << r.out;
  EXPECT_NE(r.out.find("sleeping"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("did not finish within 10 s"), std::string::npos) << r.err;
  EXPECT_GE(r.seconds, 10.0);
  // Booting takes a few CPU seconds; the rest of the 10 s the guest idles and so must the host.
  EXPECT_LT(cpu, 6.0) << "the runner spins while the guest is idle";
  std::printf("10 s run with the guest idle after boot: %.2f s of host CPU\n", cpu);
}

TEST_F(BootTest, ControlPortOnStdio) {
  // NAME=- wires a port to stdin/stdout: the guest reads a request and answers on the port.
  const fs::path cpio = initramfs(
      "read req </dev/vport0p1\n"
      "echo \"answer to $req\" >/dev/vport0p1\n"
      "poweroff -f\n");
  const ShellRun r = shell("echo ping | " + emu("--kernel " + q(kernel_path()) + " --initrd " +
                                                q(cpio) + " --port c2w.control=-"),
                           tmp.path());
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("answer to ping"), std::string::npos) << r.out;
}

}  // namespace

namespace {

// The Debian fixture's userland on our emulator: dash, dpkg, apt, and a 16 MiB file made in
// the guest whose sha256 (directly and after gzip -9 | gunzip) must equal the host's.
TEST_F(BootTest, DebianUserlandOnC2wEmu) {
  const char* f = std::getenv("C2W_FIXTURES");
  const fs::path debian = fs::path(f ? f : "") / "debian" / "rootfs";
  ASSERT_TRUE(fs::exists(debian / "usr" / "bin" / "dpkg")) << "no debian fixture at " << debian;
  c2w::testing::NewcWriter w;
  w.add_tree(debian);
  w.add_char_device("/dev/console", 5, 1);
  w.add_file("/busybox", read_text(busybox_root() / "bin" / "busybox"), 0755);
  w.add_file("/init",
             "#!/bin/sh\n"
             "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
             "mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev\n"
             "echo \"dash says $(dash -c 'echo works')\"\n"
             "echo \"dpkg lines $(dpkg -l | wc -l)\"\n"
             "apt-get --version | head -n 1\n"
             "yes c2w-data | head -c 16777216 > /tmp/big\n"
             "echo \"sha $(sha256sum < /tmp/big)\"\n"
             "echo \"gzsha $(gzip -9 < /tmp/big | gunzip | sha256sum)\"\n"
             "/busybox poweroff -f\n",
             0755);
  const fs::path cpio = tmp.path() / "debian.cpio";
  ASSERT_TRUE(w.write(cpio));
  const ShellRun r =
      shell(std::string(C2W_EMU_PATH) +
                " --append 'console=hvc0 earlycon=sbi' --memory 1G --timeout 600 --kernel " +
                q(kernel_path()) + " --initrd " + q(cpio.string()) + " </dev/null",
            tmp.path());
  EXPECT_EQ(r.status, 0) << r.err << r.out.substr(r.out.size() > 4000 ? r.out.size() - 4000 : 0);
  std::string data;
  while (data.size() < 16777216) data += "c2w-data\n";
  data.resize(16777216);
  std::string sha = c2w::oci::Sha256::of(data).substr(7);
  EXPECT_NE(r.out.find("dash says works"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("apt "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sha " + sha), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gzsha " + sha), std::string::npos) << r.out;
  size_t at = r.out.find("dpkg lines ");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_GT(std::stoi(r.out.substr(at + 11)), 80) << "minbase lists about a hundred packages";
  std::printf("c2w-emu: debian boot + checks in %.1f s\n", r.seconds);
}

// Linux's virtio_blk driver on our read-only disk: a raw file and its chunked image give the
// guest the same bytes (its sha256 of /dev/vda is the host's), a read-only disk of 4 KiB
// logical blocks with our id, writes fail, and a corrupt chunk is an I/O error in the guest
// plus one line on the host.
TEST_F(BootTest, ReadOnlyDiskOnC2wEmu) {
  std::string raw(3 * (256 << 10) + 5000, '\0');  // 3 chunks and a bit; not whole blocks
  uint64_t x = 0x9e3779b97f4a7c15;
  for (size_t i = 0; i < raw.size(); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    raw[i] = i < (256 << 10) ? "c2w disk\n"[i % 9] : i < (512 << 10) ? '\0' : static_cast<char>(x);
  }
  const fs::path raw_path = tmp.path() / "disk.raw", img_path = tmp.path() / "disk.c2wdisk",
                 bad_path = tmp.path() / "bad.c2wdisk";
  std::ofstream(raw_path, std::ios::binary) << raw;
  c2w::emulators::MemorySource src(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  std::vector<uint8_t> img;
  std::string err;
  ASSERT_TRUE(c2w::emulators::build_chunked_image(src, {}, &img, &err)) << err;
  std::ofstream(img_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
  std::vector<uint8_t> bad = img;
  uint64_t off = 0;
  std::memcpy(&off, bad.data() + 64, 8);  // chunk 0's frame
  bad[off + 20] ^= 0x10;
  std::ofstream(bad_path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bad.data()), static_cast<std::streamsize>(bad.size()));

  // The guest sees the disk padded with zeros to whole 4 KiB blocks.
  std::string padded = raw;
  padded.resize((raw.size() + 4095) / 4096 * 4096, '\0');
  const std::string sha = c2w::oci::Sha256::of(padded).substr(7);
  const fs::path cpio = initramfs(
      "echo \"size $(cat /sys/block/vda/size) ro $(cat /sys/block/vda/ro)\"\n"
      "echo \"lbs $(cat /sys/block/vda/queue/logical_block_size) serial $(cat "
      "/sys/block/vda/serial)\"\n"
      "echo \"sum $(sha256sum < /dev/vda)\"\n"
      "dd if=/dev/vda of=/dev/null bs=512 skip=1000 count=3 2>/dev/null && echo \"dd ok\"\n"
      "dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null || echo \"write "
      "refused\"\n"
      "poweroff -f\n");
  for (const fs::path& disk : {raw_path, img_path}) {
    const ShellRun r = shell(emu("--kernel " + q(kernel_path()) + " --initrd " + q(cpio) +
                                 " --disk " + q(disk) + " </dev/null"),
                             tmp.path());
    EXPECT_EQ(r.status, 0) << disk << "\n" << r.err << r.out;
    EXPECT_NE(r.out.find("size " + std::to_string(padded.size() / 512) + " ro 1"),
              std::string::npos)
        << disk << "\n"
        << r.out;
    EXPECT_NE(r.out.find("lbs 4096 serial c2w-disk"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sum " + sha), std::string::npos) << disk << "\n" << r.out;
    EXPECT_NE(r.out.find("dd ok"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("write refused"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("disk read failed"), std::string::npos) << r.err;
    std::printf("c2w-emu with %s: boot + disk checks in %.1f s\n", disk.filename().c_str(),
                r.seconds);
  }
  const ShellRun r = shell(emu("--kernel " + q(kernel_path()) + " --initrd " + q(cpio) +
                               " --disk " + q(bad_path) + " </dev/null"),
                           tmp.path());
  EXPECT_EQ(r.status, 0) << r.err << r.out;
  EXPECT_EQ(r.out.find("sum " + sha), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("I/O error"), std::string::npos) << "the guest kernel logs it\n" << r.out;
  EXPECT_NE(r.err.find("c2w-emu: disk read failed (the guest got an I/O error): chunk 0 of the "
                       "disk image (bytes 0..262144) is corrupt"),
            std::string::npos)
      << r.err;
}

}  // namespace
