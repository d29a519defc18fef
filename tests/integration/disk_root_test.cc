// The container's files on a read-only disk, on our own machine: the busybox fixture's tree as
// an EROFS image (tests/support/disk_rootfs.h), booted by `c2w-vm boot --disk` to init's ready
// and run by `c2w-vm run --restore --disk` the way out.wasm runs a container. Writes go to the
// overlay's tmpfs and are gone on the next start; the disk file is never written; the same
// disk as a chunked image (emulators/common/chunked_image.h) restores the same snapshot.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "emulators/common/block_source.h"
#include "emulators/common/chunked_image_writer.h"
#include "oci/sha256.h"
#include "tests/support/disk_rootfs.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::CommandResult;
using c2w::testing::run_command;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string kernel_path() {
  const char* k = std::getenv("C2W_KERNEL");
  return k && *k ? k : C2W_KERNEL_IMAGE;
}

class DiskRoot : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new c2w::testing::TempDir("c2w-disk-root");
    disk_ = c2w::testing::make_disk_rootfs(C2W_BINARY_PATH, dir_->path() / "cache", "busybox",
                                           dir_->path() / "busybox");
    const CommandResult boot = run_command(
        {C2W_VM_PATH, "boot", "--kernel", kernel_path(), "--initrd", disk_.initramfs.string(),
         "--disk", disk_.disk.string(), "--snapshot", snapshot().string(), "--timeout", "300"});
    boot_output_ = new std::string(boot.output);
    booted_ = boot.exit_code == 0;
  }
  static void TearDownTestSuite() {
    delete boot_output_;
    delete dir_;
  }
  void SetUp() override { ASSERT_TRUE(booted_) << "c2w-vm boot --disk failed:\n" << *boot_output_; }

  static fs::path snapshot() { return dir_->path() / "busybox.c2wsnap"; }
  static CommandResult run(const fs::path& disk, const std::string& script) {
    return run_command({C2W_VM_PATH, "run", "--restore", snapshot().string(), "--disk",
                        disk.string(), "--", "sh", "-c", script});
  }

  static c2w::testing::TempDir* dir_;
  static c2w::testing::DiskRootfs disk_;
  static std::string* boot_output_;
  static bool booted_;
};

c2w::testing::TempDir* DiskRoot::dir_ = nullptr;
c2w::testing::DiskRootfs DiskRoot::disk_;
std::string* DiskRoot::boot_output_ = nullptr;
bool DiskRoot::booted_ = false;

TEST_F(DiskRoot, TheImageIsTheRootAndEveryPathIsWritableUntilTheNextStart) {
  const std::string before = c2w::oci::Sha256::of_file(disk_.disk);
  CommandResult r = run(disk_.disk,
                        "set -e; stat -c '%u:%g %a' /bin/busybox; grep -c ' / overlay ' "
                        "/proc/mounts; echo new > /etc/c2w-written; cat /etc/c2w-written; "
                        "rm /bin/ls; test ! -e /bin/ls && echo ls-removed; exit 3");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_TRUE(contains(r.output, "0:0 755\n1\nnew\nls-removed\n")) << r.output;

  r = run(disk_.disk, "test -e /etc/c2w-written || echo write-gone; ls /bin/ls");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "write-gone\n/bin/ls\n")) << r.output;
  EXPECT_EQ(c2w::oci::Sha256::of_file(disk_.disk), before) << "the disk file was written";
}

TEST_F(DiskRoot, AChunkedImageOfTheSameDiskRestoresTheSameSnapshot) {
  std::string error;
  auto raw = c2w::emulators::FileSource::open(disk_.disk.string(), &error);
  ASSERT_TRUE(raw) << error;
  const fs::path chunked = dir_->path() / "busybox.c2wdisk";
  const int fd = ::open(chunked.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  c2w::emulators::ChunkedImageStats stats;
  const bool written = c2w::emulators::write_chunked_image(*raw, fd, {}, &error, &stats);
  ::close(fd);
  ASSERT_TRUE(written) << error;
  EXPECT_LT(fs::file_size(chunked), fs::file_size(disk_.disk));
  const CommandResult r = run(chunked, "busybox | head -1; cat /etc/os-release 2>/dev/null; true");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "BusyBox v")) << r.output;
}

TEST_F(DiskRoot, ASnapshotWithADiskDoesNotRestoreWithoutIt) {
  const CommandResult r =
      run_command({C2W_VM_PATH, "run", "--restore", snapshot().string(), "--", "true"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "disk")) << r.output;
}

TEST_F(DiskRoot, AMissingDiskFileIsAClearError) {
  const CommandResult r = run(dir_->path() / "no-such.img", "true");
  EXPECT_EQ(r.exit_code, 64) << r.output;
  EXPECT_TRUE(contains(r.output, "no-such.img")) << r.output;
}

}  // namespace
