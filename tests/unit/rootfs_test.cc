// rootfs's initramfs writer and config merge: byte-identical output for the same
// input, the documented layout, owners/modes/devices/links from the manifest (never from the
// disk), xattrs carried in c2w/config, and clear errors when the tree disagrees with its
// manifest.
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "c2w/v1/graph.pb.h"
#include "ops/rootfs/image_config.h"
#include "ops/rootfs/initramfs.h"
#include "ops/rootfs/rootfs_op.h"
#include "tests/support/cpio.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w;
namespace ctest = c2w::testing;
using ownership::Entry;
using ownership::EntryType;

Entry entry(std::string path, EntryType type, uint32_t mode, uint32_t uid = 0, uint32_t gid = 0) {
  Entry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  e.mtime = 1700000000;
  return e;
}

// A small tree on disk with the kinds of entries a real image has; disk modes deliberately
// differ from the manifest (as unpack leaves them).
struct Tree {
  ctest::TempDir dir;
  std::vector<Entry> manifest;
  fs::path rootfs() const { return dir.path() / "rootfs"; }

  Tree() {
    fs::create_directories(rootfs() / "bin");
    fs::create_directories(rootfs() / "dev");
    fs::create_directories(rootfs() / "tmp");
    write("bin/busybox", "#!busybox\n");
    write("etc-passwd", "root:x:0:0::/root:/bin/sh\n");
    std::ofstream(rootfs() / "dev/null");  // placeholder file for a device node
    manifest.push_back(entry("/", EntryType::kDir, 0755));
    manifest.push_back(entry("/bin", EntryType::kDir, 0755));
    Entry busybox = entry("/bin/busybox", EntryType::kFile, 04755, 0, 0);
    busybox.size = 10;
    busybox.xattrs["security.capability"] = std::string("\x01\x00\x00\x02", 4);
    manifest.push_back(busybox);
    Entry sh = busybox;
    sh.path = "/bin/sh";
    sh.hardlink = "/bin/busybox";
    sh.xattrs.clear();
    manifest.push_back(sh);
    Entry ls = entry("/bin/ls", EntryType::kSymlink, 0777);
    ls.link = "busybox";
    manifest.push_back(ls);
    manifest.push_back(entry("/dev", EntryType::kDir, 0755));
    Entry null = entry("/dev/null", EntryType::kCharDevice, 0666);
    null.major = 1;
    null.minor = 3;
    manifest.push_back(null);
    Entry passwd = entry("/etc-passwd", EntryType::kFile, 0644, 1000, 1001);
    passwd.size = 26;
    manifest.push_back(passwd);
    manifest.push_back(entry("/tmp", EntryType::kDir, 01777));
    std::sort(manifest.begin(), manifest.end(),
              [](const Entry& a, const Entry& b) { return a.path < b.path; });
  }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(rootfs() / rel, std::ios::binary) << text;
    fs::permissions(rootfs() / rel, fs::perms::owner_read | fs::perms::owner_write);
  }
};

const std::string kInit =
    "\x7f"
    "ELF fake init for the layout";

std::string assemble(const Tree& t, const fs::path& out, rootfs::InitramfsStats* stats = nullptr) {
  rootfs::InitramfsSpec spec;
  spec.rootfs = t.rootfs();
  spec.manifest = t.manifest;
  spec.init = kInit;
  spec.config.entrypoint = {"/bin/sh"};
  spec.config.env = {"PATH=/bin"};
  std::string bytes;
  auto s = rootfs::write_initramfs(
      spec, [&](const void* p, size_t n) { bytes.append(static_cast<const char*>(p), n); });
  if (stats) *stats = s;
  std::ofstream(out, std::ios::binary) << bytes;
  return bytes;
}

TEST(Assemble, SameInputGivesIdenticalBytes) {
  Tree a;
  std::string first = assemble(a, a.dir.path() / "1.cpio.zst");
  // Touching disk metadata (times, modes) must not matter: only the manifest does.
  fs::last_write_time(a.rootfs() / "bin/busybox", fs::file_time_type::clock::now());
  fs::permissions(a.rootfs() / "etc-passwd", fs::perms::all);
  Tree b;  // another directory, other inode numbers, other times
  std::string second = assemble(b, b.dir.path() / "2.cpio.zst");
  EXPECT_EQ(first, second);
  EXPECT_EQ(first, assemble(a, a.dir.path() / "3.cpio.zst"));
}

TEST(Assemble, LayoutOwnersModesAndLinksComeFromTheManifest) {
  Tree t;
  rootfs::InitramfsStats stats;
  assemble(t, t.dir.path() / "out", &stats);
  std::string filter;
  auto entries = ctest::read_cpio(t.dir.path() / "out", &filter);
  EXPECT_EQ(filter, "zstd");
  std::vector<std::string> names;
  std::map<std::string, ctest::CpioEntry> by_name;
  for (auto& e : entries) {
    names.push_back(e.name);
    by_name[e.name] = e;
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "c2w", "c2w/config", "c2w/rootfs", "c2w/rootfs/bin",
                       "c2w/rootfs/bin/busybox", "c2w/rootfs/bin/ls", "c2w/rootfs/bin/sh",
                       "c2w/rootfs/dev", "c2w/rootfs/dev/null", "c2w/rootfs/etc-passwd",
                       "c2w/rootfs/tmp", "dev", "dev/console", "init", "proc", "sys"}));
  EXPECT_EQ(stats.entries, names.size());

  auto& init = by_name["init"];
  EXPECT_EQ(init.type, AE_IFREG);
  EXPECT_EQ(init.perm, 0755u);
  EXPECT_EQ(init.data, kInit);
  auto& console = by_name["dev/console"];
  EXPECT_EQ(console.type, AE_IFCHR);
  EXPECT_EQ(console.rdev_major, 5u);
  EXPECT_EQ(console.rdev_minor, 1u);
  EXPECT_EQ(by_name["c2w"].perm, 0700u);

  auto& busybox = by_name["c2w/rootfs/bin/busybox"];
  EXPECT_EQ(busybox.perm, 04755u);  // setuid kept although the disk copy has 0600
  EXPECT_EQ(busybox.data, "#!busybox\n");
  EXPECT_EQ(busybox.mtime, 1700000000);
  auto& sh = by_name["c2w/rootfs/bin/sh"];
  EXPECT_EQ(sh.ino, busybox.ino);
  EXPECT_EQ(sh.nlink, 2u);
  EXPECT_EQ(busybox.nlink, 2u);
  EXPECT_EQ(sh.data, "");  // the first name carries the data
  EXPECT_EQ(by_name["c2w/rootfs/bin/ls"].symlink, "busybox");
  auto& null = by_name["c2w/rootfs/dev/null"];
  EXPECT_EQ(null.type, AE_IFCHR);
  EXPECT_EQ(null.perm, 0666u);
  EXPECT_EQ(null.rdev_major, 1u);
  EXPECT_EQ(null.rdev_minor, 3u);
  auto& passwd = by_name["c2w/rootfs/etc-passwd"];
  EXPECT_EQ(passwd.uid, 1000u);
  EXPECT_EQ(passwd.gid, 1001u);
  EXPECT_EQ(passwd.perm, 0644u);
  EXPECT_EQ(by_name["c2w/rootfs/tmp"].perm, 01777u);
  std::set<uint64_t> inos;
  for (auto& e : entries) inos.insert(e.ino);
  EXPECT_EQ(inos.size(), entries.size() - 1) << "only the hard link shares an inode";

  guest_protocol::Decoded d = guest_protocol::decode_frame(by_name["c2w/config"].data);
  ASSERT_EQ(d.status, guest_protocol::DecodeStatus::kOk) << d.error;
  auto* config = std::get_if<guest_protocol::ImageConfig>(&d.message);
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(config->entrypoint, (std::vector<std::string>{"/bin/sh"}));
  ASSERT_EQ(config->xattrs.size(), 1u);
  EXPECT_EQ(config->xattrs[0].path, "/bin/busybox");
  EXPECT_EQ(config->xattrs[0].name, "security.capability");
  EXPECT_EQ(config->xattrs[0].value, std::string("\x01\x00\x00\x02", 4));
}

TEST(Assemble, TreeThatDisagreesWithItsManifestIsAnError) {
  Tree t;
  t.write("bin/busybox", "changed size");
  try {
    assemble(t, t.dir.path() / "out");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/bin/busybox"), std::string::npos) << e.what();
  }
  Tree gone;
  fs::remove(gone.rootfs() / "etc-passwd");
  EXPECT_THROW(assemble(gone, gone.dir.path() / "out"), std::runtime_error);
}

TEST(Assemble, MergesTheImageConfigLikeADockerfile) {
  nlohmann::json oci = nlohmann::json::parse(R"({"architecture":"riscv64","config":{
      "Entrypoint":["/usr/bin/hello"],"Cmd":["--greet","world"],
      "Env":["PATH=/usr/bin","HELLO_ENV=from-image"],"WorkingDir":"/work","User":"hello"}})");
  v1::RootfsOp op;
  guest_protocol::ImageConfig same = rootfs::merge_image_config(oci, op);
  EXPECT_EQ(same.entrypoint, (std::vector<std::string>{"/usr/bin/hello"}));
  EXPECT_EQ(same.cmd, (std::vector<std::string>{"--greet", "world"}));
  EXPECT_EQ(same.working_dir, "/work");
  EXPECT_EQ(same.user, "hello");

  op.add_env("HELLO_ENV=from-recipe");
  op.add_env("NEW=1");
  op.set_entrypoint_set(true);
  op.add_entrypoint("/bin/sh");
  guest_protocol::ImageConfig entry = rootfs::merge_image_config(oci, op);
  EXPECT_EQ(entry.entrypoint, (std::vector<std::string>{"/bin/sh"}));
  EXPECT_TRUE(entry.cmd.empty()) << "ENTRYPOINT without CMD clears the image's Cmd";
  EXPECT_EQ(entry.env,
            (std::vector<std::string>{"PATH=/usr/bin", "HELLO_ENV=from-recipe", "NEW=1"}));
  op.set_cmd_set(true);
  op.add_cmd("-c");
  EXPECT_EQ(rootfs::merge_image_config(oci, op).cmd, (std::vector<std::string>{"-c"}));

  EXPECT_TRUE(
      rootfs::merge_image_config(nlohmann::json::parse(R"({"config":null})"), v1::RootfsOp{})
          .cmd.empty());
  EXPECT_THROW(rootfs::merge_image_config(nlohmann::json::parse(R"({"config":{"Cmd":"sh"}})"),
                                          v1::RootfsOp{}),
               std::runtime_error);
}

}  // namespace

namespace {

TEST(Assemble, TheInitBinaryIsPartOfTheCacheKey) {
  c2w::v1::Op op;
  op.mutable_rootfs();
  std::string a = c2w::rootfs::RootfsOp("init one").cache_salt(op);
  std::string b = c2w::rootfs::RootfsOp("init two").cache_salt(op);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, c2w::rootfs::RootfsOp("init one").cache_salt(op));
  EXPECT_NE(a.find("init=sha256:"), std::string::npos) << a;
}

}  // namespace
