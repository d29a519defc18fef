// The c2w command end to end on real images: exports of the unpacked rootfs from a loopback
// registry, an OCI layout and a docker archive; full caching on a rerun and for another tag of
// the same content; clear errors for bad recipes, images and flags; Ctrl-C then a resume; two
// processes on one cache; a full cache disk.
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "guest_protocol/protocol.h"
#include "tests/support/copy_context.h"
#include "tests/support/cpio.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/throttled_proxy.h"
#include "tests/support/tree_compare.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::CommandResult;
using c2w::testing::fixture;
using c2w::testing::TempDir;

const std::string kC2w = C2W_BINARY_PATH;

CommandResult c2w_run(std::vector<std::string> args) {
  args.insert(args.begin(), kC2w);
  return c2w::testing::run_command(args);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Cli, ExportsBusyboxRootfsFromRegistryAndCachesReruns) {
  c2w::testing::LoopbackRegistry registry;
  registry.push(fixture("busybox") / "layout", "latest", "library/busybox:1");
  registry.push(fixture("busybox") / "layout", "latest", "library/busybox:same-content");
  TempDir dir;
  std::string cache = (dir.path() / "cache").string();
  auto convert = [&](const std::string& tag, const std::string& out) {
    return c2w_run({"--cache-dir", cache, "--progress=plain", "--insecure-registry",
                    registry.host(), "--target", "image", "--output",
                    "type=local,dest=" + (dir.path() / out).string(),
                    registry.host() + "/library/busybox:" + tag});
  };
  CommandResult first = convert("1", "out1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_FALSE(contains(first.output, "CACHED")) << first.output;
  c2w::testing::expect_same_tree(fixture("busybox") / "rootfs", dir.path() / "out1");

  CommandResult second = convert("1", "out2");
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_TRUE(contains(second.output, "CACHED")) << second.output;
  CommandResult other_tag = convert("same-content", "out3");
  ASSERT_EQ(other_tag.exit_code, 0) << other_tag.output;
  // The unpack vertex (and everything after it) hits the cache through the manifest digest.
  EXPECT_TRUE(contains(other_tag.output, "CACHED")) << other_tag.output;
  c2w::testing::expect_same_tree(fixture("busybox") / "rootfs", dir.path() / "out3");
}

TEST(Cli, ExportsDebianFromOciLayoutAndBusyboxFromDockerArchive) {
  TempDir dir;
  std::string cache = (dir.path() / "cache").string();
  CommandResult deb = c2w_run({"--cache-dir", cache, "--progress=plain", "--target", "image",
                               "--output", "type=local,dest=" + (dir.path() / "deb").string(),
                               "oci-layout:" + (fixture("debian") / "layout").string()});
  ASSERT_EQ(deb.exit_code, 0) << deb.output;
  c2w::testing::expect_same_tree(fixture("debian") / "rootfs", dir.path() / "deb");
  CommandResult bb = c2w_run({"--cache-dir", cache, "--progress=plain", "--target", "image",
                              "--output", "type=local,dest=" + (dir.path() / "bb").string(),
                              "docker-archive:" + (fixture("busybox") / "busybox.tar").string()});
  ASSERT_EQ(bb.exit_code, 0) << bb.output;
  c2w::testing::expect_same_tree(fixture("busybox") / "rootfs", dir.path() / "bb");
}

TEST(Cli, ClearErrorsForBadInput) {
  TempDir dir;
  std::string cache = (dir.path() / "cache").string();
  auto recipe = [&](const std::string& text) {
    fs::path p = dir.path() / "recipe";
    std::ofstream(p) << text;
    return c2w_run({"--cache-dir", cache, "--recipe", p.string(), "--progress=plain", "busybox"});
  };
  CommandResult unknown = recipe("ARG IMAGE\nFORM ${IMAGE} AS image\n");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(contains(unknown.output, "recipe:2:1")) << unknown.output;
  EXPECT_TRUE(contains(unknown.output, "FROM")) << unknown.output;
  CommandResult undefined = recipe("FROM busybox AS image\nROOTFS nothere AS rootfs\n");
  EXPECT_EQ(undefined.exit_code, 1);
  EXPECT_TRUE(contains(undefined.output, "nothere")) << undefined.output;
  CommandResult missing_arg =
      c2w_run({"--cache-dir", cache, "--progress=plain", "--build-arg", "X=1"});
  EXPECT_EQ(missing_arg.exit_code, 2) << missing_arg.output;

  // A bad value for the default recipe's MEMORY: said up front with the fix, nothing written.
  CommandResult bad_memory = c2w_run({"--cache-dir", cache, "--build-arg", "MEMORY=12X",
                                      "oci-layout:" + (fixture("busybox") / "layout").string(),
                                      (dir.path() / "out.wasm").string()});
  EXPECT_NE(bad_memory.exit_code, 0);
  EXPECT_TRUE(contains(bad_memory.output, "bad MEMORY size \"12X\"")) << bad_memory.output;
  EXPECT_TRUE(contains(bad_memory.output, "256M")) << bad_memory.output;
  EXPECT_FALSE(fs::exists(dir.path() / "out.wasm"));

  // An amd64-only image: the error names the platform and the option that will convert it.
  CommandResult amd64 = c2w_run(
      {"--cache-dir", cache, "oci-layout:" + (fixture("multiarch") / "layout").string() + ":amd64",
       (dir.path() / "out.wasm").string()});
  EXPECT_EQ(amd64.exit_code, 1) << amd64.output;
  EXPECT_TRUE(contains(amd64.output, "is for linux/amd64, not linux/riscv64")) << amd64.output;
  EXPECT_TRUE(contains(amd64.output, "--target-arch amd64")) << amd64.output;
  EXPECT_FALSE(fs::exists(dir.path() / "out.wasm"));

  CommandResult bad_ref = c2w_run({"--cache-dir", cache, "--target", "image", "--output",
                                   "type=local,dest=" + (dir.path() / "x").string(), "Bad//Ref"});
  EXPECT_EQ(bad_ref.exit_code, 1);
  EXPECT_TRUE(contains(bad_ref.output, "bad image reference \"Bad//Ref\"")) << bad_ref.output;
  EXPECT_FALSE(fs::exists(dir.path() / "x"));

  CommandResult not_found =
      c2w_run({"--cache-dir", cache, "--target", "image", "--output",
               "type=local,dest=" + (dir.path() / "y").string(),
               "oci-layout:" + (fixture("busybox") / "layout").string() + ":nope"});
  EXPECT_EQ(not_found.exit_code, 1);
  EXPECT_TRUE(contains(not_found.output, "no image tagged")) << not_found.output;
}

TEST(Cli, CtrlCDuringUnpackThenResume) {
  TempDir dir;
  std::string cache = (dir.path() / "cache").string();
  std::vector<std::string> args = {kC2w,
                                   "--cache-dir",
                                   cache,
                                   "--progress=plain",
                                   "--target",
                                   "image",
                                   "--output",
                                   "type=local,dest=" + (dir.path() / "deb").string(),
                                   "oci-layout:" + (fixture("debian") / "layout").string()};
  c2w::testing::BackgroundProcess proc(args, dir.path() / "log");
  // Wait until unpacking has started, then interrupt.
  for (int i = 0; i < 300; ++i) {
    std::ifstream log(dir.path() / "log");
    std::string text((std::istreambuf_iterator<char>(log)), {});
    if (contains(text, "#2 ")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(proc.pid(), SIGINT);
  int status = proc.wait();
  std::string text = c2w::testing::slurp(dir.path() / "log");
  // The interrupt lands during the unpack (130); the cache must stay consistent for the rerun.
  EXPECT_EQ(status, 130) << text;
  EXPECT_TRUE(contains(text, "cancelled")) << text;
  fs::remove_all(dir.path() / "deb");
  CommandResult again = c2w_run({"--cache-dir", cache, "--progress=plain", "--target", "image",
                                 "--output", "type=local,dest=" + (dir.path() / "deb").string(),
                                 "oci-layout:" + (fixture("debian") / "layout").string()});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  c2w::testing::expect_same_tree(fixture("debian") / "rootfs", dir.path() / "deb");
}

TEST(Cli, DebianFromTlsRegistryWithBasicAuth) {
  c2w::testing::LoopbackRegistry registry({.tls = true, .user = "tester", .password = "pw"});
  registry.push(fixture("debian") / "layout", "latest", "library/debian:trixie");
  TempDir dir;
  CommandResult r =
      c2w_run({"--cache-dir", (dir.path() / "cache").string(), "--progress=plain", "--registry-ca",
               registry.ca_certificate().string(), "--creds", "tester:pw", "--target", "image",
               "--output", "type=local,dest=" + (dir.path() / "deb").string(),
               registry.host() + "/library/debian:trixie"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  c2w::testing::expect_same_tree(fixture("debian") / "rootfs", dir.path() / "deb");
  CommandResult wrong =
      c2w_run({"--cache-dir", (dir.path() / "cache2").string(), "--registry-ca",
               registry.ca_certificate().string(), "--creds", "tester:nope", "--target", "image",
               "--output", "type=local,dest=" + (dir.path() / "x").string(),
               registry.host() + "/library/debian:trixie"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(contains(wrong.output, "401")) << wrong.output;
  EXPECT_FALSE(fs::exists(dir.path() / "x"));
}

TEST(Cli, CtrlCDuringDownloadThenResume) {
  c2w::testing::LoopbackRegistry registry;
  registry.push(fixture("debian") / "layout", "latest", "library/debian:trixie");
  int port = std::stoi(registry.host().substr(registry.host().find(':') + 1));
  c2w::testing::ThrottledProxy proxy("127.0.0.1", port, 4 << 20);  // ~10 s for the 43 MB image
  TempDir dir;
  std::string cache = (dir.path() / "cache").string();
  std::vector<std::string> args = {kC2w,
                                   "--cache-dir",
                                   cache,
                                   "--progress=plain",
                                   "--insecure-registry",
                                   proxy.host(),
                                   "--target",
                                   "image",
                                   "--output",
                                   "type=local,dest=" + (dir.path() / "deb").string(),
                                   proxy.host() + "/library/debian:trixie"};
  c2w::testing::BackgroundProcess proc(args, dir.path() / "log");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ::kill(proc.pid(), SIGINT);
  EXPECT_EQ(proc.wait(), 130) << c2w::testing::slurp(dir.path() / "log");
  EXPECT_TRUE(contains(c2w::testing::slurp(dir.path() / "log"), "cancelled"));
  uint64_t partial = 0;
  for (auto& e : fs::directory_iterator(fs::path(cache) / "tmp"))
    if (e.path().extension() == ".partial") partial += fs::file_size(e.path());
  EXPECT_GT(partial, 1000000u) << "the interrupted download is kept for resuming";
  EXPECT_TRUE(fs::is_empty(fs::path(cache) / "actions")) << "nothing half-done is recorded";
  EXPECT_FALSE(fs::exists(dir.path() / "deb"));

  CommandResult again =
      c2w_run({"--cache-dir", cache, "--progress=plain", "--insecure-registry", registry.host(),
               "--target", "image", "--output", "type=local,dest=" + (dir.path() / "deb").string(),
               registry.host() + "/library/debian:trixie"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  c2w::testing::expect_same_tree(fixture("debian") / "rootfs", dir.path() / "deb");
}

TEST(Cli, DuAndPrune) {
  TempDir dir;
  std::string cache = (dir.path() / "cache").string();
  ASSERT_EQ(c2w_run({"--cache-dir", cache, "--target", "image", "--output",
                     "type=local,dest=" + (dir.path() / "bb").string(),
                     "oci-layout:" + (fixture("busybox") / "layout").string()})
                .exit_code,
            0);
  CommandResult du = c2w_run({"du", "--cache-dir", cache});
  ASSERT_EQ(du.exit_code, 0) << du.output;
  EXPECT_TRUE(contains(du.output, "UNPACK")) << du.output;
  EXPECT_TRUE(contains(du.output, "Total:")) << du.output;
  CommandResult prune = c2w_run({"prune", "--all", "--cache-dir", cache});
  ASSERT_EQ(prune.exit_code, 0) << prune.output;
  EXPECT_TRUE(contains(prune.output, "Removed")) << prune.output;
  CommandResult after = c2w_run({"du", "--cache-dir", cache});
  EXPECT_FALSE(contains(after.output, "UNPACK")) << after.output;
}

TEST(Cli, TwoProcessesOnOneCache) {
  TempDir dir;
  std::string cache = (dir.path() / "cache").string();
  std::vector<c2w::testing::BackgroundProcess> procs;
  for (int i = 0; i < 2; ++i)
    procs.emplace_back(
        std::vector<std::string>{
            kC2w, "--cache-dir", cache, "--progress=plain", "--target", "image", "--output",
            "type=local,dest=" + (dir.path() / ("o" + std::to_string(i))).string(),
            "oci-layout:" + (fixture("debian") / "layout").string()},
        dir.path() / ("log" + std::to_string(i)));
  for (size_t i = 0; i < procs.size(); ++i)
    EXPECT_EQ(procs[i].wait(), 0) << c2w::testing::slurp(dir.path() / ("log" + std::to_string(i)));
  for (int i = 0; i < 2; ++i)
    c2w::testing::expect_same_tree(fixture("debian") / "rootfs",
                                   dir.path() / ("o" + std::to_string(i)));
}

TEST(Cli, FullCacheDiskIsAClearError) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir dir;
  fs::path cache = dir.path() / "cache";
  fs::create_directories(cache);
  ASSERT_EQ(::mount("tmpfs", cache.c_str(), "tmpfs", 0, "size=2m"), 0);
  CommandResult r = c2w_run({"--cache-dir", cache.string(), "--progress=plain", "--target", "image",
                             "--output", "type=local,dest=" + (dir.path() / "deb").string(),
                             "oci-layout:" + (fixture("debian") / "layout").string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "No space left on device")) << r.output;
  EXPECT_TRUE(contains(r.output, "hint:")) << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "deb"));
  // Nothing half-written stays under a final name: every action record points at whole data.
  EXPECT_TRUE(fs::is_empty(cache / "actions"));
  ::umount(cache.c_str());
}

TEST(Cli, ExportsTheInitramfsOfTheRootfsStage) {
  TempDir dir;
  auto assemble = [&](const std::string& cache, const std::string& out) {
    return c2w_run({"--cache-dir", (dir.path() / cache).string(), "--progress=plain", "--target",
                    "rootfs", "--output", "type=local,dest=" + (dir.path() / out).string(),
                    "oci-layout:" + (fixture("hello") / "layout").string()});
  };
  CommandResult first = assemble("cache", "out1");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  fs::path initramfs = dir.path() / "out1" / "rootfs.cpio.zst";
  std::string filter;
  auto entries = c2w::testing::read_cpio(initramfs, &filter);
  EXPECT_EQ(filter, "zstd");
  std::map<std::string, c2w::testing::CpioEntry> by_name;
  for (auto& e : entries) by_name[e.name] = e;

  std::ifstream init_file(C2W_GUEST_DIR "/init/c2w-init", std::ios::binary);
  std::stringstream init;
  init << init_file.rdbuf();
  ASSERT_FALSE(init.str().empty());
  EXPECT_EQ(by_name["init"].data, init.str()) << "the init of this build is embedded";
  EXPECT_EQ(by_name["init"].perm, 0755u);
  EXPECT_EQ(by_name["dev/console"].type, static_cast<unsigned>(AE_IFCHR));
  auto& hello = by_name["c2w/rootfs/usr/bin/hello"];
  EXPECT_EQ(hello.type, static_cast<unsigned>(AE_IFREG));
  EXPECT_EQ(hello.perm, 0755u);
  EXPECT_EQ(hello.uid, 0u);
  EXPECT_TRUE(contains(by_name["c2w/rootfs/etc/passwd"].data, "hello:x:1000:1000:"));
  EXPECT_EQ(by_name["c2w/rootfs/work"].type, static_cast<unsigned>(AE_IFDIR));

  c2w::guest_protocol::Decoded d = c2w::guest_protocol::decode_frame(by_name["c2w/config"].data);
  ASSERT_EQ(d.status, c2w::guest_protocol::DecodeStatus::kOk) << d.error;
  auto& config = std::get<c2w::guest_protocol::ImageConfig>(d.message);
  EXPECT_EQ(config.entrypoint, (std::vector<std::string>{"/usr/bin/hello"}));
  EXPECT_EQ(config.cmd, (std::vector<std::string>{"--greet", "world"}));
  EXPECT_EQ(config.working_dir, "/work");
  EXPECT_EQ(config.user, "hello");

  CommandResult again = assemble("cache", "out2");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_TRUE(contains(again.output, "CACHED")) << again.output;
  CommandResult fresh = assemble("other-cache", "out3");  // recomputed from nothing
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  auto bytes = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  EXPECT_EQ(bytes(dir.path() / "out3" / "rootfs.cpio.zst"), bytes(initramfs));
}

TEST(Cli, CopiesLocalFilesIntoTheRootfs) {
  TempDir dir;
  const fs::path ctx = dir.path() / "ctx";
  c2w::testing::make_copy_context(ctx);
  auto assemble = [&](const std::string& out) {
    return c2w_run({"--cache-dir", (dir.path() / "cache").string(), "--progress=plain", "--recipe",
                    (ctx / "recipe").string(), "--target", "rootfs", "--output",
                    "type=local,dest=" + (dir.path() / out).string(),
                    "oci-layout:" + (fixture("hello") / "layout").string()});
  };
  CommandResult r = assemble("out");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, c2w::testing::CpioEntry> by_name;
  for (auto& e : c2w::testing::read_cpio(dir.path() / "out" / "rootfs.cpio.zst"))
    by_name[e.name] = e;
  EXPECT_EQ(by_name["c2w/rootfs/opt/app/run"].data, "#!/bin/sh\necho run\n");
  EXPECT_EQ(by_name["c2w/rootfs/opt/app/run"].perm, 0755u);
  EXPECT_EQ(by_name["c2w/rootfs/opt/app/lib/x"].data, "library");
  EXPECT_EQ(by_name["c2w/rootfs/etc/motd"].data, "welcome\n");
  EXPECT_EQ(by_name["c2w/rootfs/etc/motd"].uid, 0u);

  // A changed source is a new key: the rootfs is assembled again with the new bytes.
  std::ofstream(ctx / "motd") << "changed\n";
  r = assemble("out2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  by_name.clear();
  for (auto& e : c2w::testing::read_cpio(dir.path() / "out2" / "rootfs.cpio.zst"))
    by_name[e.name] = e;
  EXPECT_EQ(by_name["c2w/rootfs/etc/motd"].data, "changed\n");
  EXPECT_EQ(by_name["c2w/rootfs/opt/app/lib/x"].data, "library");
}

}  // namespace
