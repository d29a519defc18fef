// ROOTFS COPY laid over a manifest (ops/rootfs/copies.h): Docker's destination rules,
// symlinks followed inside the rootfs, replacements, hard-link groups, and the copied bytes
// reaching the initramfs.
#include <gtest/gtest.h>

#include <fstream>

#include "ops/rootfs/copies.h"
#include "ops/rootfs/initramfs.h"
#include "tests/support/cpio.h"
#include "tests/support/process.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w;
using ownership::Entry;
using ownership::EntryType;

Entry make(std::string path, EntryType type, uint32_t mode = 0755, uint32_t uid = 0) {
  Entry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.uid = uid;
  e.mtime = 1700000000;
  return e;
}

std::vector<Entry> image() {
  std::vector<Entry> m = {make("/", EntryType::kDir),
                          make("/bin", EntryType::kSymlink, 0777),
                          make("/etc", EntryType::kDir, 0750, 7),
                          make("/etc/passwd", EntryType::kFile, 0644),
                          make("/usr", EntryType::kDir),
                          make("/usr/bin", EntryType::kDir),
                          make("/usr/bin/a", EntryType::kFile),
                          make("/usr/bin/b", EntryType::kFile),
                          make("/usr/bin/c", EntryType::kFile),
                          make("/loop", EntryType::kSymlink, 0777)};
  m[1].link = "usr/bin";
  m[9].link = "/loop";
  m[7].hardlink = "/usr/bin/a";
  m[8].hardlink = "/usr/bin/a";
  return m;
}

const Entry* find(const rootfs::Overlay& o, const std::string& path) {
  for (const Entry& e : o.manifest)
    if (e.path == path) return &e;
  return nullptr;
}

class Copies : public ::testing::Test {
 protected:
  c2w::testing::TempDir dir_;
  fs::path file(const std::string& name, const std::string& text, fs::perms perms) {
    fs::path p = dir_.path() / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    fs::permissions(p, perms);
    return p;
  }
};

TEST_F(Copies, FileDestinationsFollowDockerRules) {
  fs::path tool = file("src/tool", "#!/bin/sh\n", fs::perms(0750));
  auto o = rootfs::apply_copies(image(), {{tool, "tools/tool", "/opt/app/run"},
                                          {tool, "tools/tool", "/etc/"},
                                          {tool, "tools/tool", "/bin/tool"},
                                          {tool, "tools/tool", "/usr/bin"}});
  const Entry* run = find(o, "/opt/app/run");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->type, EntryType::kFile);
  EXPECT_EQ(run->mode, 0750u);
  EXPECT_EQ(run->uid, 0u);
  EXPECT_EQ(run->mtime, 0);
  EXPECT_EQ(run->size, 10u);
  EXPECT_EQ(o.files.at("/opt/app/run"), tool);
  ASSERT_NE(find(o, "/opt"), nullptr);  // missing parents are made, root 0755
  EXPECT_EQ(find(o, "/opt/app")->mode, 0755u);
  EXPECT_NE(find(o, "/etc/tool"), nullptr) << "a trailing / means into the directory";
  EXPECT_EQ(find(o, "/etc")->uid, 7u) << "an existing directory keeps its metadata";
  EXPECT_NE(find(o, "/usr/bin/tool"), nullptr) << "/bin -> usr/bin is followed";
  EXPECT_EQ(find(o, "/bin")->type, EntryType::kSymlink);
  EXPECT_TRUE(std::is_sorted(o.manifest.begin(), o.manifest.end(),
                             [](const Entry& a, const Entry& b) { return a.path < b.path; }));
}

TEST_F(Copies, DirectoriesMergeAndReplacementsKeepLinkGroups) {
  file("tree/a", "new a", fs::perms(0644));
  file("tree/sub/deep", "deep", fs::perms(0600));
  fs::create_symlink("a", dir_.path() / "tree/link");
  auto o = rootfs::apply_copies(image(), {{dir_.path() / "tree", "tree", "/usr/bin"}});
  std::string paths;
  for (const Entry& e : o.manifest) paths += e.path + "\n";
  const Entry* a = find(o, "/usr/bin/a");
  ASSERT_NE(a, nullptr) << paths;
  ASSERT_NE(find(o, "/usr/bin/sub/deep"), nullptr) << paths;
  EXPECT_EQ(a->size, 5u);
  EXPECT_TRUE(a->hardlink.empty());
  EXPECT_EQ(find(o, "/usr/bin/b")->hardlink, "") << "b heads the group a left";
  EXPECT_EQ(find(o, "/usr/bin/c")->hardlink, "/usr/bin/b");
  EXPECT_EQ(find(o, "/usr/bin/sub/deep")->mode, 0600u);
  ASSERT_NE(find(o, "/usr/bin/link"), nullptr) << paths;
  EXPECT_EQ(find(o, "/usr/bin/link")->link, "a");
  EXPECT_EQ(o.files.count("/usr/bin/b"), 0u) << "b's bytes stay in the rootfs";

  // A file source onto a directory goes into it; a file inside a copied tree replaces a
  // directory of the same name with everything in it.
  fs::path f = file("plain", "x", fs::perms(0644));
  auto into = rootfs::apply_copies(image(), {{f, "plain", "/usr"}});
  EXPECT_NE(find(into, "/usr/plain"), nullptr);
  EXPECT_NE(find(into, "/usr/bin/a"), nullptr);
  file("over/bin", "not a dir", fs::perms(0755));
  auto over = rootfs::apply_copies(image(), {{dir_.path() / "over", "over", "/usr"}});
  EXPECT_EQ(find(over, "/usr/bin")->type, EntryType::kFile);
  EXPECT_EQ(find(over, "/usr/bin/a"), nullptr);
  EXPECT_EQ(find(over, "/usr/bin/c"), nullptr);
}

TEST_F(Copies, BadDestinationsAreClearErrors) {
  fs::path f = file("plain", "x", fs::perms(0644));
  auto error = [&](const std::string& dst) {
    try {
      rootfs::apply_copies(image(), {{f, "plain", dst}});
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("etc/x").find("not absolute"), std::string::npos);
  EXPECT_NE(error("/etc/passwd/x").find("/etc/passwd is not a directory"), std::string::npos);
  EXPECT_NE(error("/loop/x").find("too many levels of symbolic links"), std::string::npos);
  EXPECT_NE(error("/missing/..").find("names no file"), std::string::npos);
}

TEST_F(Copies, CopiedBytesReachTheInitramfs) {
  fs::path tree = dir_.path() / "rootfs";
  fs::create_directories(tree / "usr/bin");
  fs::create_directories(tree / "etc");
  std::ofstream(tree / "usr/bin/a") << "old";
  std::ofstream(tree / "etc/passwd") << "";
  std::vector<Entry> m = image();
  m[6].size = 3;  // /usr/bin/a and its links b, c
  m[7].size = 3;
  m[8].size = 3;
  fs::path conf = file("app.conf", "key=value\n", fs::perms(0640));
  auto o = rootfs::apply_copies(m, {{conf, "app.conf", "/etc/app.conf"}});
  rootfs::InitramfsSpec spec;
  spec.rootfs = tree;
  spec.manifest = o.manifest;
  spec.files = o.files;
  spec.init = "init";
  std::string bytes;
  rootfs::write_initramfs(
      spec, [&](const void* p, size_t n) { bytes.append(static_cast<const char*>(p), n); });
  std::ofstream(dir_.path() / "out", std::ios::binary) << bytes;
  std::map<std::string, c2w::testing::CpioEntry> by_name;
  for (auto& e : c2w::testing::read_cpio(dir_.path() / "out")) by_name[e.name] = e;
  EXPECT_EQ(by_name["c2w/rootfs/etc/app.conf"].data, "key=value\n");
  EXPECT_EQ(by_name["c2w/rootfs/etc/app.conf"].perm, 0640u);
  EXPECT_EQ(by_name["c2w/rootfs/usr/bin/a"].data, "old");
  EXPECT_EQ(by_name["c2w/rootfs/usr/bin/c"].nlink, 3u);
}

}  // namespace
