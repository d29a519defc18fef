// Host directories shared with a real Linux guest over virtio-9p: c2w-emu --share boots the
// busybox fixture, the guest mounts the tags (9p2000.L, msize 256 KiB) and reads, writes,
// creates, overwrites and tries to escape; the host then checks its files. A second test takes
// a snapshot with the share mounted and a file open, and continues it in a new process.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "oci/sha256.h"
#include "tests/integration/riscv64_boot_support.h"

namespace {

using namespace c2w::testing::boot;

void put(const fs::path& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}

std::string sha_of(const std::string& data) {
  return c2w::oci::Sha256::of(data).substr(7);
}

class P9BootTest : public BootFixture {
 protected:
  void SetUp() override {
    BootFixture::SetUp();
    fs::create_directories(share());
    fs::create_directories(outside());
    fs::create_directories(ro());
    put(share() / "hello.txt", "hello from the host\n");
    put(share() / "existing.txt", "old contents, longer than the new ones\n");
    put(outside() / "secret", "top secret\n");
    put(ro() / "readme.txt", "read only\n");
    fs::create_directory_symlink("../outside", share() / "escape");
    fs::create_directory_symlink(outside(), share() / "abs");
  }
  fs::path share() const { return tmp.path() / "share"; }
  fs::path outside() const { return tmp.path() / "outside"; }
  fs::path ro() const { return tmp.path() / "ro"; }

  void expect_outside_intact() {
    EXPECT_EQ(read_text(outside() / "secret"), "top secret\n");
    EXPECT_EQ(std::distance(fs::directory_iterator(outside()), fs::directory_iterator()), 1);
  }
};

// Each escape attempt prints "escape N refused" or ESCAPED-N.
const char kShareScript[] =
    "mkdir -p /mnt /ro\n"
    "mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 hostdir /mnt && echo MOUNT-OK\n"
    "mount -t 9p -o trans=virtio,version=9p2000.L rodir /ro && echo RO-MOUNT-OK\n"
    "echo \"mounted: $(grep hostdir /proc/mounts)\"\n"
    "echo \"cat: $(cat /mnt/hello.txt)\"\n"
    "echo 'written by the guest' > /mnt/new.txt\n"
    "mkdir /mnt/newdir && echo inner > /mnt/newdir/inner.txt\n"
    "echo short > /mnt/existing.txt\n"
    "yes c2w-9p-data | head -c 1000000 > /mnt/big.txt\n"
    "echo \"bigsum $(sha256sum < /mnt/big.txt)\"\n"
    "echo \"hostsum $(sha256sum < /mnt/hostbig.bin)\"\n"
    "echo \"ro: $(cat /ro/readme.txt)\"\n"
    "if echo x > /ro/new 2>/dev/null; then echo RO-WRITTEN; else echo 'ro refused'; fi\n"
    "try() { if \"$@\" >/dev/null 2>&1; then echo ESCAPED-$n; else echo \"escape $n refused\"; "
    "fi; n=$((n+1)); }\n"
    "n=1\n"
    "try cat /mnt/escape/secret\n"
    "try cat /mnt/../outside/secret\n"
    "try sh -c 'echo pwned > /mnt/escape/secret'\n"
    "try cat /mnt/abs/secret\n"
    "try sh -c 'echo pwned > /mnt/abs/secret'\n"
    "ln -s ../../outside/secret /mnt/up\n"
    "try cat /mnt/up\n"
    "try sh -c 'echo pwned > /mnt/up'\n"
    "try ls /mnt/escape/\n"
    "cd /mnt/newdir && cd ../.. && echo \"dotdot lands at $(pwd)\"\n"
    "echo \"listing: $(ls /mnt | tr '\\n' ' ')\"\n"
    "cd / && umount /mnt && umount /ro && echo UMOUNT-OK\n"
    "poweroff -f\n";

TEST_F(P9BootTest, GuestUsesHostDirectoriesAndCannotEscape) {
  std::string hostbig;
  for (uint32_t x = 1; hostbig.size() < (3 << 20);) {
    x = x * 1664525 + 1013904223;
    hostbig.push_back(static_cast<char>(x >> 24));
  }
  put(share() / "hostbig.bin", hostbig);
  const fs::path cpio = initramfs(kShareScript);
  const ShellRun r = shell(emu("--kernel " + q(kernel_path()) + " --initrd " + q(cpio) +
                               " --share hostdir=" + q(share()) +
                               " --share rodir=" + q(ro().string() + ",ro") + " </dev/null"),
                           tmp.path());
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  std::string out = r.out;
  std::erase(out, '\r');
  for (const char* want : {"MOUNT-OK", "RO-MOUNT-OK", "cat: hello from the host\n", "ro: read only",
                           "ro refused", "dotdot lands at /\n", "UMOUNT-OK"})
    EXPECT_NE(out.find(want), std::string::npos) << want << " missing:\n" << out;
  const size_t mounted = out.find("mounted: hostdir /mnt 9p ");
  ASSERT_NE(mounted, std::string::npos) << out;
  EXPECT_NE(out.substr(mounted, out.find('\n', mounted) - mounted).find("msize=262144"),
            std::string::npos)
      << "the guest got the msize it asked for";
  EXPECT_EQ(out.find("ESCAPED"), std::string::npos) << out;
  for (int n = 1; n <= 8; ++n)
    EXPECT_NE(out.find("escape " + std::to_string(n) + " refused"), std::string::npos) << n;

  // What the guest did, seen from the host.
  EXPECT_EQ(read_text(share() / "new.txt"), "written by the guest\n");
  EXPECT_EQ(read_text(share() / "newdir" / "inner.txt"), "inner\n");
  EXPECT_EQ(read_text(share() / "existing.txt"), "short\n");
  std::string big;
  while (big.size() < 1000000) big += "c2w-9p-data\n";
  big.resize(1000000);
  EXPECT_EQ(read_text(share() / "big.txt"), big);
  EXPECT_NE(out.find("bigsum " + sha_of(big)), std::string::npos) << out;
  EXPECT_NE(out.find("hostsum " + sha_of(hostbig)), std::string::npos) << out;
  ASSERT_TRUE(fs::is_symlink(share() / "up"));
  EXPECT_EQ(fs::read_symlink(share() / "up"), "../../outside/secret");
  expect_outside_intact();
  EXPECT_FALSE(fs::exists(ro() / "new"));
  EXPECT_EQ(read_text(ro() / "readme.txt"), "read only\n");
  std::printf("c2w-emu with two 9p shares: boot, checks, poweroff in %.1f s\n", r.seconds);
}

TEST_F(P9BootTest, SnapshotWithAMountedShareContinuesInANewProcess) {
  const fs::path cpio = initramfs(
      "stty -echo\n"
      "mkdir -p /mnt\n"
      "mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 hostdir /mnt\n"
      "cd /mnt\n"
      "exec 3</mnt/hello.txt\n"
      "echo C2W-SNAPSHOT-READY\n"
      "read line\n"
      "echo \"open fd: $(cat <&3)\"\n"
      "echo \"by path: $(cat hello.txt)\"\n"
      "echo after > /mnt/after.txt && echo WROTE-AFTER\n"
      "poweroff -f\n");
  const fs::path snap = tmp.path() / "boot.snap";
  const std::string share_flag = " --share hostdir=" + q(share());
  const ShellRun save =
      shell(emu("--kernel " + q(kernel_path()) + " --initrd " + q(cpio) + share_flag +
                " --snapshot-at C2W-SNAPSHOT-READY --snapshot " + q(snap) + " </dev/null"),
            tmp.path());
  ASSERT_EQ(save.status, 0) << save.err << save.out;
  ASSERT_TRUE(fs::exists(snap)) << save.err;
  put(share() / "hello.txt", "changed after the snapshot\n");

  // The restored machine needs the same devices.
  const ShellRun bare = shell(std::string(C2W_EMU_PATH) + " --restore " + q(snap), tmp.path());
  EXPECT_EQ(bare.status, 3);
  EXPECT_NE(bare.err.find("extra virtio devices"), std::string::npos) << bare.err;

  const fs::path go = tmp.path() / "go";
  put(go, "go\n");
  const ShellRun restored = shell(
      std::string(C2W_EMU_PATH) + " --timeout 300 --restore " + q(snap) + share_flag + " <" + q(go),
      tmp.path());
  ASSERT_EQ(restored.status, 0) << restored.err << restored.out;
  std::string out = restored.out;
  std::erase(out, '\r');
  EXPECT_EQ(out.find("Linux version"), std::string::npos) << "it booted again";
  EXPECT_NE(out.find("open fd: changed after the snapshot\n"), std::string::npos) << out;
  EXPECT_NE(out.find("by path: changed after the snapshot\n"), std::string::npos) << out;
  EXPECT_NE(out.find("WROTE-AFTER"), std::string::npos) << out;
  EXPECT_EQ(read_text(share() / "after.txt"), "after\n");
  std::printf("9p snapshot: boot to snapshot %.1f s, restore + share use %.1f s\n", save.seconds,
              restored.seconds);
}

}  // namespace
