// Guest init on a real machine: the kernel (C2W_KERNEL) booting an initramfs that
// `c2w --target rootfs` made from the fixture images, driven over the control port like the
// runtime will drive it. qemu-system-riscv64 is the machine today (tests/support/guest_vm.h).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/support/disk_rootfs.h"
#include "tests/support/guest_vm.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using c2w::guest_protocol::Exit;
using c2w::guest_protocol::RunRequest;
using c2w::testing::Driver;

const std::string kC2w = C2W_BINARY_PATH;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class GuestInit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new c2w::testing::TempDir("c2w-guest");
    // The hello tree again, with users init must resolve (or refuse) from its /etc/passwd.
    fs::path users = dir_->path() / "users";
    for (auto [tag, user] : {std::pair{"nosuch", "nosuch"}, {"numeric", "4242:77"}}) {
      fs::path config = dir_->path() / (std::string(tag) + ".json");
      std::ofstream(config) << R"({"Entrypoint":["/usr/bin/hello"],"User":")" << user << R"("})";
      auto r = c2w::testing::run_command(
          {C2W_MKIMAGE_PATH, "image", "--layout", users.string(), "--tag", tag, "--platform",
           "linux/riscv64", "--config", config.string(), "--layer",
           "gzip:" + (c2w::testing::fixture("hello") / "tree").string()});
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    std::string layout = "oci-layout:" + users.string();
    for (auto [name, ref] : std::vector<std::pair<std::string, std::string>>{
             {"hello", "oci-layout:" + (c2w::testing::fixture("hello") / "layout").string()},
             {"busybox", "oci-layout:" + (c2w::testing::fixture("busybox") / "layout").string()},
             {"nosuch", layout + ":nosuch"},
             {"numeric", layout + ":numeric"}}) {
      auto r = c2w::testing::run_command(
          {kC2w, "--cache-dir", (dir_->path() / "cache").string(), "--progress=plain", "--target",
           "rootfs", "--output", "type=local,dest=" + (dir_->path() / name).string(), ref});
      ASSERT_EQ(r.exit_code, 0) << r.output;
    }
    make_disk_image("busybox");
  }

  // `image` with its files on a disk instead (tests/support/disk_rootfs.h).
  static void make_disk_image(const std::string& image) {
    c2w::testing::make_disk_rootfs(kC2w, dir_->path() / "cache", image,
                                   dir_->path() / (image + "-disk"));
  }

  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    auto kernel = c2w::testing::guest_kernel();
    ASSERT_TRUE(kernel)
        << "no guest kernel: set C2W_KERNEL to a riscv64 Image built with "
           "ops/kernel/riscv64.config (default: the kernel.build fixture, " C2W_KERNEL_IMAGE ")";
    kernel_ = *kernel;
    work_ = std::make_unique<c2w::testing::TempDir>("c2w-vm");
  }

  // Boots `image`'s initramfs and returns the driver once init said ready.
  std::unique_ptr<Driver> boot(const std::string& image,
                               std::vector<std::pair<std::string, fs::path>> shares = {}) {
    c2w::testing::VmConfig config;
    config.kernel = kernel_;
    config.initrd = dir_->path() / image / "rootfs.cpio.zst";
    if (image.ends_with("-disk")) config.disk = dir_->path() / image / "disk.img";
    config.shares = std::move(shares);
    vm_ = c2w::testing::start_qemu(config, work_->path());
    auto driver = std::make_unique<Driver>(*vm_);
    EXPECT_TRUE(driver->wait_ready(120s)) << "no ready from init; console:\n" << vm_->console();
    return driver;
  }

  // Sends the request and waits for the machine to power off.
  void run(Driver& d, RunRequest request) {
    if (!request.time_sec) request.time_sec = 2000000000;
    d.send(request);
    EXPECT_TRUE(d.finish(120s)) << "the guest did not power off; console:\n" << vm_->console();
    EXPECT_TRUE(d.exit) << "no exit message; stderr: " << d.err << "\nconsole:\n" << vm_->console();
    EXPECT_EQ(d.protocol_error, "");
  }

  static RunRequest shell(const std::string& script) {
    RunRequest r;
    r.args_set = true;
    r.args = {"sh", "-c", script};
    return r;
  }

  static c2w::testing::TempDir* dir_;
  fs::path kernel_;
  std::unique_ptr<c2w::testing::TempDir> work_;
  std::unique_ptr<c2w::testing::GuestVm> vm_;
};

c2w::testing::TempDir* GuestInit::dir_ = nullptr;

TEST_F(GuestInit, HelloHonoursItsImageConfig) {
  auto d = boot("hello");
  run(*d, RunRequest{});
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kExited, 0}));
  for (const char* line :
       {"arg0=/usr/bin/hello\n", "arg1=--greet\n", "arg2=world\n", "env HELLO_ENV=from-image\n",
        "env EXTRA_ENV=(unset)\n", "env PATH=/usr/local/bin:/usr/bin:/bin\n", "cwd=/work\n",
        "uid=1000 gid=1000\n"})
    EXPECT_TRUE(contains(d->out, line)) << line << " missing from:\n" << d->out;
  EXPECT_EQ(d->err, "");
}

TEST_F(GuestInit, HelloOverridesKeepStderrApart) {
  auto d = boot("hello");
  RunRequest r;
  r.args_set = true;
  r.args = {"--stderr", "to-stderr", "--exit", "3"};
  r.env = {"HELLO_ENV=from-host", "EXTRA_ENV=extra"};
  run(*d, r);
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kExited, 3}));
  EXPECT_TRUE(contains(d->out, "arg0=/usr/bin/hello\narg1=--stderr\n")) << d->out;
  EXPECT_TRUE(contains(d->out, "env HELLO_ENV=from-host\nenv EXTRA_ENV=extra\n")) << d->out;
  EXPECT_FALSE(contains(d->out, "\nto-stderr\n")) << d->out;  // only as hello's arg2
  EXPECT_EQ(d->err, "to-stderr\n");
}

TEST_F(GuestInit, BusyboxShellEnvStatusClockAndNamespaces) {
  auto d = boot("busybox");
  RunRequest r = shell("echo $A; date +%s; hostname; echo pid=$$; exit 7");
  r.env = {"A=x"};
  r.debug = true;
  run(*d, r);
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kExited, 7}));
  EXPECT_TRUE(contains(d->out, "x\n2000000")) << d->out;  // the clock comes from the request
  EXPECT_TRUE(contains(d->out, "\nc2w\npid=1\n")) << d->out;
  EXPECT_FALSE(d->logs.empty()) << "the debug flag sends init's steps as log messages";
  EXPECT_TRUE(contains(vm_->console(), "c2w-init: exec /bin/sh")) << vm_->console();
}

// The container's files on a read-only EROFS disk under an overlay: the image's files and
// owners are there, every path can be written (into the tmpfs upper layer), whiteouts work,
// the disk itself stays read-only, and 9p shares still mount over it.
TEST_F(GuestInit, FilesOnADiskUnderAnOverlayAreWritable) {
  c2w::testing::TempDir share("c2w-share");
  auto d = boot("busybox-disk", {{"share0", share.path()}});
  RunRequest r = shell(
      "set -e; busybox | head -1; stat -c '%u:%g %a' /bin/busybox; "
      "echo changed > /etc/hostname.new; cat /etc/hostname.new; "
      "rm /bin/ls; test ! -e /bin/ls && echo ls-gone; mkdir -p /usr/new/dir && echo mkdir-ok; "
      "grep -c ' / overlay ' /proc/mounts; "
      "touch /c2w-image-write 2>/dev/null && echo root-writable; "
      "echo via-share > /mnt/share/out.txt");
  r.mounts = {{"share0", "/mnt/share", false}};
  run(*d, r);
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kExited, 0})) << d->err << "\nconsole:\n" << vm_->console();
  EXPECT_TRUE(contains(d->out, "BusyBox v")) << d->out;
  EXPECT_TRUE(contains(d->out, "0:0 755\n")) << d->out;
  EXPECT_TRUE(contains(d->out, "changed\nls-gone\nmkdir-ok\n1\nroot-writable\n")) << d->out;
  EXPECT_EQ(read_text(share.path() / "out.txt"), "via-share\n");
}

TEST_F(GuestInit, NinePSharesReadWriteAndReadOnly) {
  c2w::testing::TempDir rw("c2w-share"), ro("c2w-share-ro");
  std::ofstream(rw.path() / "in.txt") << "from host\n";
  std::ofstream(ro.path() / "fixed.txt") << "read only\n";
  auto d = boot("busybox", {{"share0", rw.path()}, {"share1", ro.path()}});
  RunRequest r = shell(
      "cat /mnt/rw/in.txt /data/ro/fixed.txt; echo from guest > /mnt/rw/out.txt; "
      "echo x > /data/ro/new.txt || echo ro-refused");
  r.mounts = {{"share0", "/mnt/rw", false}, {"share1", "/data/ro", true}};
  run(*d, r);
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kExited, 0})) << d->err;
  EXPECT_TRUE(contains(d->out, "from host\nread only\nro-refused\n")) << d->out << d->err;
  EXPECT_EQ(read_text(rw.path() / "out.txt"), "from guest\n");
  EXPECT_FALSE(fs::exists(ro.path() / "new.txt"));
}

TEST_F(GuestInit, SignalledProcessIsReportedAsSuch) {
  auto d = boot("busybox");
  d->send(shell("echo started; sleep 600"));
  ASSERT_TRUE(d->pump_until([&] { return contains(d->out, "started\n"); }, 60s)) << vm_->console();
  d->send(c2w::guest_protocol::Signal{9});
  EXPECT_TRUE(d->finish(60s));
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kSignaled, 9}));
  EXPECT_EQ(d->exit->host_status(), 137);
}

TEST_F(GuestInit, SignalsReachAContainerProcessThatHandlesThem) {
  auto d = boot("busybox");
  // PID 1 of a pid namespace only gets signals it handles, exactly as in Docker.
  d->send(shell("trap 'echo got-term; exit 5' TERM; echo started; while :; do sleep 1; done"));
  ASSERT_TRUE(d->pump_until([&] { return contains(d->out, "started\n"); }, 60s)) << vm_->console();
  d->send(c2w::guest_protocol::Signal{15});
  EXPECT_TRUE(d->finish(60s));
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kExited, 5}));
  EXPECT_TRUE(contains(d->out, "got-term\n")) << d->out;
}

TEST_F(GuestInit, StdinIsDeliveredAndEnds) {
  auto d = boot("busybox");
  RunRequest r = shell("cat; echo done");
  r.stdin_open = true;
  r.time_sec = 2000000000;
  d->send(r);
  d->write_stdin("line one\nline two\n");
  // qemu drops bytes it has not handed to the guest when the socket closes, so the end of
  // input is sent once they arrived (our emulator keeps that order itself, protocol.h).
  ASSERT_TRUE(d->pump_until([&] { return contains(d->out, "line two\n"); }, 60s)) << vm_->console();
  vm_->close_stdin();
  EXPECT_TRUE(d->finish(120s)) << vm_->console();
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(d->exit->value, 0u);
  EXPECT_EQ(d->out, "line one\nline two\ndone\n");
}

TEST_F(GuestInit, TerminalModeGivesAPty) {
  auto d = boot("busybox");
  RunRequest r = shell("stty size; tty; echo term=$TERM; echo err >&2");
  r.terminal = true;
  r.rows = 30;
  r.cols = 100;
  run(*d, r);
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(d->exit->value, 0u) << d->out;
  EXPECT_TRUE(contains(d->out, "30 100\r\n/dev/pts/0\r\nterm=xterm\r\nerr\r\n")) << d->out;
  EXPECT_EQ(d->err, "");  // a terminal merges the streams, as docker -t does
}

TEST_F(GuestInit, TerminalFollowsResizeAndTakesInput) {
  auto d = boot("busybox");
  RunRequest r = shell("while read line; do stty size; [ \"$line\" = q ] && exit 4; done");
  r.terminal = true;
  r.stdin_open = true;
  r.rows = 30;
  r.cols = 100;
  r.time_sec = 2000000000;
  d->send(r);
  d->write_stdin("a\r");
  ASSERT_TRUE(d->pump_until([&] { return contains(d->out, "30 100\r\n"); }, 60s)) << d->out;
  d->send(c2w::guest_protocol::Resize{40, 120});
  // The resize and the input travel on different ports: keep asking until the size shows.
  for (int i = 0; i < 50 && !contains(d->out, "40 120\r\n"); ++i) {
    d->write_stdin("b\r");
    d->pump_until([&] { return contains(d->out, "40 120\r\n"); }, 200ms);
  }
  EXPECT_TRUE(contains(d->out, "40 120\r\n")) << d->out;
  d->write_stdin("q\r");
  EXPECT_TRUE(d->finish(60s)) << vm_->console();
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kExited, 4})) << d->out;
}

TEST_F(GuestInit, UsersResolveThroughTheContainersPasswd) {
  auto d = boot("numeric");
  run(*d, RunRequest{});
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(d->exit->value, 0u) << d->err;
  EXPECT_TRUE(contains(d->out, "cwd=/\nuid=4242 gid=77\n")) << d->out;

  work_ = std::make_unique<c2w::testing::TempDir>("c2w-vm");
  auto d2 = boot("nosuch");
  run(*d2, RunRequest{});
  ASSERT_TRUE(d2->exit);
  EXPECT_EQ(*d2->exit, (Exit{Exit::Kind::kExited, 125}));
  EXPECT_EQ(d2->err, "c2w: unable to find user nosuch: no matching entries in passwd file\n");
  EXPECT_EQ(d2->out, "");
}

TEST_F(GuestInit, DockerStatusesForCommandsThatCannotRun) {
  auto d = boot("busybox");
  RunRequest r;
  r.args_set = true;
  r.args = {"no-such-command"};
  run(*d, r);
  ASSERT_TRUE(d->exit);
  EXPECT_EQ(*d->exit, (Exit{Exit::Kind::kExited, 127}));
  EXPECT_TRUE(contains(d->err, "exec: \"no-such-command\": executable file not found in $PATH"))
      << d->err;

  work_ = std::make_unique<c2w::testing::TempDir>("c2w-vm");
  auto d2 = boot("busybox");
  RunRequest r2;
  r2.entrypoint_set = true;
  r2.entrypoint = {"/etc/passwd"};
  run(*d2, r2);
  ASSERT_TRUE(d2->exit);
  EXPECT_EQ(*d2->exit, (Exit{Exit::Kind::kExited, 126})) << d2->err;
}

}  // namespace
