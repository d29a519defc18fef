// The EROFS writer checked by the real erofs-utils: fsck.erofs must pass each image and, with
// --extract, give back the names, types, contents, link targets, device numbers, modes, owners
// and mtimes of the manifest; dump.erofs shows the inode fields (nid, links, inode size, xattr
// size, owners) and directory order; mkfs.erofs is the reference encoder for xattrs. Also
// large directories and files, odd names, determinism, streaming to a pipe, progress and
// every error the writer promises.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "base/fd.h"
#include "erofs/writer.h"
#include "oci/sha256.h"
#include "tests/support/process.h"
#include "tests/support/tree_compare.h"

namespace {

namespace fs = std::filesystem;
using namespace c2w;
namespace ctest = c2w::testing;
using ownership::Entry;
using ownership::EntryType;

constexpr int64_t kMtime = 1700000000;

Entry entry(std::string path, EntryType type, uint32_t mode, uint32_t uid = 0, uint32_t gid = 0,
            int64_t mtime = kMtime) {
  Entry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.uid = uid;
  e.gid = gid;
  e.mtime = mtime;
  return e;
}

// A manifest and the tree of file bytes it describes (files only: the writer reads nothing
// else from disk, and disk modes stay owner-only as unpack leaves them).
struct Tree {
  ctest::TempDir dir{"c2w-erofs"};
  std::vector<Entry> manifest;

  Tree() {
    fs::create_directories(root());
    manifest.push_back(entry("/", EntryType::kDir, 0755));
  }
  fs::path root() const { return dir.path() / "rootfs"; }
  fs::path image() const { return dir.path() / "image.erofs"; }

  Entry& add(Entry e) {
    manifest.push_back(std::move(e));
    return manifest.back();
  }
  Entry& directory(const std::string& path, uint32_t mode = 0755, uint32_t uid = 0,
                   uint32_t gid = 0, int64_t mtime = kMtime) {
    fs::create_directories(root() / path.substr(1));
    return add(entry(path, EntryType::kDir, mode, uid, gid, mtime));
  }
  Entry& file(const std::string& path, const std::string& content, uint32_t mode = 0644,
              uint32_t uid = 0, uint32_t gid = 0, int64_t mtime = kMtime) {
    std::ofstream(root() / path.substr(1), std::ios::binary) << content;
    Entry& e = add(entry(path, EntryType::kFile, mode, uid, gid, mtime));
    e.size = content.size();
    return e;
  }
  Entry& symlink(const std::string& path, const std::string& target, uint32_t uid = 0,
                 int64_t mtime = kMtime) {
    Entry& e = add(entry(path, EntryType::kSymlink, 0777, uid, uid, mtime));
    e.link = target;
    return e;
  }
  Entry& device(const std::string& path, EntryType type, uint32_t major, uint32_t minor,
                uint32_t mode, uint32_t gid = 0) {
    Entry& e = add(entry(path, type, mode, 0, gid));
    e.major = major;
    e.minor = minor;
    return e;
  }
  Entry& hardlink(const std::string& path, const std::string& target) {
    const Entry* t = find(target);
    Entry e = t ? *t : entry(path, EntryType::kFile, 0644);
    e.path = path;
    e.type = EntryType::kFile;
    e.hardlink = target;
    e.xattrs.clear();
    return add(std::move(e));
  }
  const Entry* find(const std::string& path) const {
    for (const Entry& e : manifest)
      if (e.path == path) return &e;
    return nullptr;
  }
  std::vector<Entry> sorted() const {
    std::vector<Entry> m = manifest;
    std::sort(m.begin(), m.end(), [](const Entry& a, const Entry& b) { return a.path < b.path; });
    return m;
  }
  erofs::Stats write(const erofs::Options& options = {}) const {
    return erofs::write_image_file(image(), sorted(), root(), options);
  }
};

// fsck.erofs 1.5 exits 0 even when the superblock checksum is wrong, so its "<E>" lines fail
// the check too.
::testing::AssertionResult fsck_passes(const fs::path& image) {
  const auto r = ctest::run_command({"fsck.erofs", image.string()});
  if (r.exit_code != 0 || r.output.find("<E>") != std::string::npos)
    return ::testing::AssertionFailure() << "fsck.erofs exit " << r.exit_code << ":\n" << r.output;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult extract(const fs::path& image, const fs::path& dest,
                                   const std::vector<std::string>& options) {
  std::vector<std::string> argv{"fsck.erofs", "--extract=" + dest.string()};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(image.string());
  const auto r = ctest::run_command(argv);
  if (r.exit_code != 0 || r.output.find("<E>") != std::string::npos)
    return ::testing::AssertionFailure() << "fsck.erofs --extract exit " << r.exit_code << ":\n"
                                         << r.output;
  return ::testing::AssertionSuccess();
}

// One inode as dump.erofs --path shows it.
struct DumpedInode {
  std::string text;
  uint64_t field(const std::string& name) const {
    std::smatch m;
    const std::regex re("(^|\n|  )" + name + ": (\\d+)");
    if (!std::regex_search(text, m, re)) {
      ADD_FAILURE() << "no '" << name << "' in dump.erofs output:\n" << text;
      return ~uint64_t{0};
    }
    return std::stoull(m[2].str());
  }
  uint64_t nid() const { return field("NID"); }
  uint64_t links() const { return field("Links"); }
  uint64_t size() const { return field("Size"); }
  uint64_t layout() const { return field("Layout"); }
  uint64_t inode_size() const { return field("Inode size"); }
  uint64_t xattr_size() const { return field("Xattr size"); }
  uint64_t uid() const { return field("Uid"); }
  uint64_t gid() const { return field("Gid"); }
};

DumpedInode dump_path(const fs::path& image, const std::string& path) {
  const auto r = ctest::run_command({"dump.erofs", "--path=" + path, image.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return {r.output};
}

struct DumpedDirent {
  uint64_t nid;
  int type;
  std::string name;
};

// dump.erofs --ls: a directory's entries in on-disk order.
std::vector<DumpedDirent> dump_ls(const fs::path& image, const std::string& path) {
  const auto r = ctest::run_command({"dump.erofs", "--ls", "--path=" + path, image.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<DumpedDirent> out;
  std::istringstream in(r.output);
  std::string line;
  const std::regex re(R"(^\s*(\d+)\s+(\d+)  (.*)$)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, re))
      out.push_back({std::stoull(m[1].str()), std::stoi(m[2].str()), m[3].str()});
  }
  return out;
}

std::string dump_super(const fs::path& image) {
  const auto r = ctest::run_command({"dump.erofs", "-s", image.string()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output;
}

// A number in dump.erofs -s output, e.g. super_field(text, "root nid").
uint64_t super_field(const std::string& text, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(name + ":\\s+(\\d+)"))) {
    ADD_FAILURE() << "no '" << name << "' in:\n" << text;
    return ~uint64_t{0};
  }
  return std::stoull(m[1].str());
}

std::string read_bytes(const fs::path& file, uint64_t offset, uint64_t len) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(len, '\0');
  in.read(out.data(), static_cast<std::streamsize>(len));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

// The inline xattr region of `path` in `image`, located by dump.erofs: right after the inode.
std::string xattr_region(const fs::path& image, const std::string& path) {
  const DumpedInode d = dump_path(image, path);
  return read_bytes(image, d.nid() * 32 + d.inode_size(), d.xattr_size());
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::string pseudo_random(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xFF);
  return s;
}

// In-memory file bytes through the FileOpener callback.
class StringReader : public erofs::FileReader {
 public:
  explicit StringReader(std::string data, uint64_t claimed)
      : data_(std::move(data)), claimed_(claimed) {}
  uint64_t size() override { return claimed_; }
  size_t read(uint64_t offset, char* buf, size_t len) override {
    if (offset >= data_.size()) return 0;
    const size_t n = std::min<size_t>(len, data_.size() - offset);
    std::memcpy(buf, data_.data() + offset, n);
    return n;
  }

 private:
  std::string data_;
  uint64_t claimed_;
};

erofs::FileOpener opener_of(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const Entry& e) -> std::unique_ptr<erofs::FileReader> {
    const std::string& data = files.at(e.path);
    return std::make_unique<StringReader>(data, data.size());
  };
}

bool is_root() {
  return ::geteuid() == 0;
}

// Every kind of entry a rootfs holds, with owners and modes that need each inode form.
void fill_every_kind(Tree& t) {
  t.directory("/bin");
  t.file("/bin/tool", "#!tool\n", 04755, 1000, 2000, 1000);
  t.hardlink("/bin/tool2", "/bin/tool");
  t.directory("/usr", 0755);
  t.directory("/usr/bin", 0755);
  t.hardlink("/usr/bin/tool3", "/bin/tool");
  t.symlink("/bin/sh", "tool", 33, 1234567);
  t.symlink("/abs", "/usr/../bin/tool");
  t.directory("/data", 02775, 70000, 70001, 1600000000);
  t.file("/data/far-owner", "far\n", 0640, 4000000000u, 65536);
  t.file("/data/sgid", "x", 02755, 0, 50);
  t.file("/gid-only", "g", 0644, 0, 100000);  // compact but for the gid
  t.directory("/tmp", 01777);
  t.directory("/empty", 0700);
  t.directory("/dev");
  t.device("/dev/null", EntryType::kCharDevice, 1, 3, 0666);
  t.device("/dev/vda", EntryType::kBlockDevice, 254, 0, 0660, 6);
  t.device("/dev/wide", EntryType::kBlockDevice, 4095, 1048575, 0600);
  t.directory("/run");
  t.add(entry("/run/fifo", EntryType::kFifo, 0620, 5, 7));
  t.file("/empty-file", "");
  t.file("/etc-tail", pseudo_random(5000, 1), 0644, 0, 0, 1);
  t.file("/etc-exact", pseudo_random(8192, 2), 0600, 12, 13);
}

TEST(ErofsWriter, FsckExtractGivesBackEveryKindOfEntry) {
  if (!is_root()) GTEST_SKIP() << "restoring owners and device nodes needs root";
  Tree t;
  fill_every_kind(t);
  t.write();
  ASSERT_TRUE(fsck_passes(t.image()));

  // Owners and mtimes: --preserve (chown after chmod, which drops setuid bits).
  const fs::path owned = t.dir.path() / "owned";
  ASSERT_TRUE(extract(t.image(), owned, {"--preserve"}));
  // Modes: permissions only, so setuid, setgid and sticky stay.
  const fs::path perms = t.dir.path() / "perms";
  ASSERT_TRUE(extract(t.image(), perms, {"--no-preserve-owner", "--preserve-perms"}));

  for (const Entry& e : t.sorted()) {
    SCOPED_TRACE(e.path);
    const fs::path p = owned / e.path.substr(1);
    struct stat st {};
    ASSERT_EQ(::lstat(p.c_str(), &st), 0);
    switch (e.type) {
      case EntryType::kFile:
        EXPECT_TRUE(S_ISREG(st.st_mode));
        EXPECT_EQ(ctest::slurp(p),
                  ctest::slurp(t.root() /
                               (e.hardlink.empty() ? e.path.substr(1) : e.hardlink.substr(1))));
        break;
      case EntryType::kDir:
        EXPECT_TRUE(S_ISDIR(st.st_mode));
        break;
      case EntryType::kSymlink:
        EXPECT_TRUE(S_ISLNK(st.st_mode));
        EXPECT_EQ(fs::read_symlink(p).string(), e.link);
        break;
      case EntryType::kFifo:
        EXPECT_TRUE(S_ISFIFO(st.st_mode));
        break;
      case EntryType::kCharDevice:
      case EntryType::kBlockDevice:
        EXPECT_EQ(S_ISCHR(st.st_mode), e.type == EntryType::kCharDevice);
        EXPECT_EQ(S_ISBLK(st.st_mode), e.type == EntryType::kBlockDevice);
        EXPECT_EQ(major(st.st_rdev), e.major);
        EXPECT_EQ(minor(st.st_rdev), e.minor);
        break;
    }
    EXPECT_EQ(st.st_uid, e.uid);
    EXPECT_EQ(st.st_gid, e.gid);
    EXPECT_EQ(st.st_mtim.tv_sec, e.mtime);
    if (e.type != EntryType::kSymlink) {  // a symlink's mode is always 0777
      struct stat ps {};
      ASSERT_EQ(::lstat((perms / e.path.substr(1)).c_str(), &ps), 0);
      EXPECT_EQ(ps.st_mode & 07777, e.mode) << std::oct << (ps.st_mode & 07777);
    }
  }
  EXPECT_EQ(names_in(owned / "empty"), std::set<std::string>{});
  EXPECT_EQ(dump_path(t.image(), "/bin/sh").uid(), 33u);
  EXPECT_EQ(dump_path(t.image(), "/bin/sh").size(), 4u);
}

TEST(ErofsWriter, HardLinksShareOneInode) {
  Tree t;
  fill_every_kind(t);
  t.write();
  ASSERT_TRUE(fsck_passes(t.image()));
  const DumpedInode tool = dump_path(t.image(), "/bin/tool");
  EXPECT_EQ(tool.links(), 3u);
  EXPECT_EQ(dump_path(t.image(), "/bin/tool2").nid(), tool.nid());
  EXPECT_EQ(dump_path(t.image(), "/usr/bin/tool3").nid(), tool.nid());
  EXPECT_EQ(dump_path(t.image(), "/bin/tool2").uid(), 1000u);  // the target's owners
  std::map<std::string, uint64_t> nids;
  for (const auto& d : dump_ls(t.image(), "/bin")) nids[d.name] = d.nid;
  EXPECT_EQ(nids.at("tool"), tool.nid());
  EXPECT_EQ(nids.at("tool2"), tool.nid());
  EXPECT_NE(nids.at("sh"), tool.nid());
  // Inodes: every entry but the two extra names.
  EXPECT_EQ(super_field(dump_super(t.image()), "inode count"), t.manifest.size() - 2);
}

TEST(ErofsWriter, OwnersPickCompactOrExtendedInodes) {
  Tree t;
  fill_every_kind(t);
  t.file("/small-owner", "s", 0644, 65535, 65535);
  t.write();
  ASSERT_TRUE(fsck_passes(t.image()));
  // Compact (32 bytes) where uid, gid < 65536 and the mtime is the build time (the most common).
  EXPECT_EQ(dump_path(t.image(), "/small-owner").inode_size(), 32u);
  EXPECT_EQ(dump_path(t.image(), "/small-owner").uid(), 65535u);
  EXPECT_EQ(dump_path(t.image(), "/dev/null").inode_size(), 32u);
  EXPECT_EQ(dump_path(t.image(), "/").inode_size(), 32u);
  // Extended (64 bytes) for a 32-bit owner and for an mtime of its own.
  const DumpedInode far = dump_path(t.image(), "/data/far-owner");
  EXPECT_EQ(far.inode_size(), 64u);
  EXPECT_EQ(far.uid(), 4000000000u);
  EXPECT_EQ(far.gid(), 65536u);
  EXPECT_EQ(dump_path(t.image(), "/gid-only").inode_size(), 64u);
  EXPECT_EQ(dump_path(t.image(), "/gid-only").gid(), 100000u);
  EXPECT_EQ(dump_path(t.image(), "/data").inode_size(), 64u);
  EXPECT_EQ(dump_path(t.image(), "/data").uid(), 70000u);
  EXPECT_EQ(dump_path(t.image(), "/bin/tool").inode_size(), 64u);
  // Directories count their subdirectories: / has bin usr data tmp empty dev run.
  EXPECT_EQ(dump_path(t.image(), "/").links(), 2u + 7u);
  EXPECT_EQ(dump_path(t.image(), "/usr").links(), 3u);
  EXPECT_EQ(dump_path(t.image(), "/empty").links(), 2u);
  // Data layouts: inline tail where it fits, whole blocks otherwise.
  EXPECT_EQ(dump_path(t.image(), "/etc-tail").layout(), 2u);
  EXPECT_EQ(dump_path(t.image(), "/etc-exact").layout(), 0u);
  EXPECT_EQ(dump_path(t.image(), "/etc-exact").size(), 8192u);
}

TEST(ErofsWriter, SuperblockIsChecksummedAndFsckNoticesACorruption) {
  Tree t;
  fill_every_kind(t);
  const erofs::Stats stats = t.write();
  ASSERT_TRUE(fsck_passes(t.image()));
  const std::string super = dump_super(t.image());
  EXPECT_NE(super.find("sb_csum"), std::string::npos) << super;
  EXPECT_EQ(super_field(super, "root nid"), 36u);
  EXPECT_EQ(super_field(super, "Filesystem blocks"), fs::file_size(t.image()) / 4096);
  EXPECT_EQ(stats.image_bytes, fs::file_size(t.image()));
  EXPECT_EQ(stats.image_bytes % 4096, 0u);
  EXPECT_EQ(super.find("00000000-0000-0000-0000-000000000000"), std::string::npos) << super;

  // A reserved superblock byte: only the checksum can tell.
  const fs::path bad = t.dir.path() / "bad.erofs";
  fs::copy_file(t.image(), bad);
  {
    std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1024 + 127);
    f.put('\x5a');
  }
  EXPECT_FALSE(fsck_passes(bad));
}

TEST(ErofsWriter, XattrsMatchMkfsErofsEncoding) {
  // The reference: files with these xattrs on disk, imaged by mkfs.erofs. Values are read back
  // from the disk, so both writers encode exactly the same bytes.
  ctest::TempDir ref_dir("c2w-erofs-ref");
  const fs::path ref = ref_dir.path() / "tree";
  fs::create_directories(ref);
  const std::string capability(
      "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00",
      20);  // v2, cap_net_raw=ep
  const std::string acl(
      "\x02\x00\x00\x00"                   // version 2
      "\x01\x00\x06\x00\xff\xff\xff\xff"   // user::rw-
      "\x02\x00\x04\x00\xe8\x03\x00\x00"   // user:1000:r--
      "\x04\x00\x04\x00\xff\xff\xff\xff"   // group::r--
      "\x10\x00\x04\x00\xff\xff\xff\xff"   // mask::r--
      "\x20\x00\x00\x00\xff\xff\xff\xff",  // other::---
      44);
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> files{
      {"u", {{"user.greeting", "hello"}}},
      {"t", {{"trusted.overlay.opaque", "y"}}},
      {"s", {{"security.capability", capability}}},
      {"acl", {{"system.posix_acl_access", acl}}},
      {"many",
       {{"user.a", "1"},
        {"user.bb", std::string(300, 'v')},
        {"security.selinux", std::string("system_u:object_r:bin_t:s0\0", 27)},
        {"trusted.empty", ""}}},
  };
  Tree t;
  bool reference = true;
  for (const auto& [name, xattrs] : files) {
    std::ofstream(ref / name) << name;
    Entry& e = t.file("/" + name, name);
    for (const auto& [key, value] : xattrs) {
      e.xattrs[key] = value;
      if (::setxattr((ref / name).c_str(), key.c_str(), value.data(), value.size(), 0) != 0)
        reference = false;
      else {
        std::string back(70000, '\0');
        const ssize_t n = ::getxattr((ref / name).c_str(), key.c_str(), back.data(), back.size());
        ASSERT_GE(n, 0);
        back.resize(static_cast<size_t>(n));
        e.xattrs[key] = back;
      }
    }
  }
  t.write();
  ASSERT_TRUE(fsck_passes(t.image()));

  // Sizes: a 12-byte header, then per xattr 4 + name suffix + value, padded to 4 bytes.
  auto expected_size = [](const std::map<std::string, std::string>& xattrs) {
    size_t size = 12;
    for (const auto& [key, value] : xattrs) {
      size_t suffix = key.size() - key.find('.') - 1;
      if (key.starts_with("system.posix_acl_")) suffix = 0;
      size += (4 + suffix + value.size() + 3) / 4 * 4;
    }
    return size;
  };
  for (const auto& [name, xattrs] : files)
    EXPECT_EQ(dump_path(t.image(), "/" + name).xattr_size(), expected_size(xattrs)) << name;
  EXPECT_EQ(dump_path(t.image(), "/").xattr_size(), 0u);
  // The name indexes: user 1, posix_acl_access 2, trusted 4, security 6.
  EXPECT_EQ(xattr_region(t.image(), "/u").substr(12, 17),
            std::string("\x08\x01\x05\x00greetinghello", 17));
  EXPECT_EQ(xattr_region(t.image(), "/acl").substr(12, 4), std::string("\x00\x02\x2c\x00", 4));
  EXPECT_EQ(xattr_region(t.image(), "/t")[13], '\x04');
  EXPECT_EQ(xattr_region(t.image(), "/s")[13], '\x06');

  if (!reference) GTEST_SKIP() << "this filesystem refuses some xattrs: no mkfs.erofs reference";
  const fs::path ref_image = ref_dir.path() / "ref.erofs";
  const auto r = ctest::run_command({"mkfs.erofs", ref_image.string(), ref.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& [name, xattrs] : files) {
    if (xattrs.size() > 1) continue;  // one entry each: the order of entries cannot differ
    EXPECT_EQ(xattr_region(t.image(), "/" + name), xattr_region(ref_image, "/" + name)) << name;
  }
}

TEST(ErofsWriter, XattrsLargerThanABlockSpanBlocks) {
  Tree t;
  Entry& e = t.file("/blob", "blob");
  e.xattrs["user.a"] = pseudo_random(60000, 1);
  e.xattrs["user.b"] = pseudo_random(65535, 2);
  e.xattrs["trusted.c"] = pseudo_random(30001, 3);
  const auto xattrs = e.xattrs;
  t.file("/next", "after the blob");
  t.write();
  ASSERT_TRUE(fsck_passes(t.image()));
  EXPECT_EQ(dump_path(t.image(), "/blob").xattr_size(), 12u + (4 + 1 + 60000 + 3) / 4 * 4 +
                                                            (4 + 1 + 65535 + 3) / 4 * 4 +
                                                            (4 + 1 + 30001 + 3) / 4 * 4);
  // The entries in name order, each value whole.
  const std::string region = xattr_region(t.image(), "/blob");
  size_t at = 12;
  for (const auto& [name, value] : xattrs) {
    SCOPED_TRACE(name);
    ASSERT_LE(at + 4, region.size());
    const size_t name_len = static_cast<unsigned char>(region[at]);
    const size_t value_len = static_cast<unsigned char>(region[at + 2]) |
                             static_cast<size_t>(static_cast<unsigned char>(region[at + 3])) << 8;
    EXPECT_EQ(region.substr(at + 4, name_len), name.substr(name.find('.') + 1));
    EXPECT_EQ(region.substr(at + 4 + name_len, value_len), value);
    at += (4 + name_len + value_len + 3) / 4 * 4;
  }
  EXPECT_EQ(at, region.size());
  const fs::path out = t.dir.path() / "out";
  ASSERT_TRUE(extract(t.image(), out, {}));
  EXPECT_EQ(ctest::slurp(out / "next"), "after the blob");
  EXPECT_EQ(ctest::slurp(out / "blob"), "blob");
}

TEST(ErofsWriter, DirectoriesOfAnySizeAreSortedBytewise) {
  Tree t;
  t.directory("/big");
  std::vector<std::string> names;
  for (int i = 0; i < 2000; ++i)
    names.push_back("entry-" + std::to_string(i * 7919 % 2000) + std::string(i % 61, 'x'));
  // These sort before "." (0x2e) and after it, bytewise.
  for (std::string odd : {"!bang", "+plus", "-dash", "~tilde", "Zed", "\xff-high"})
    names.push_back(odd);
  for (const auto& n : names) t.file("/big/" + n, n);
  t.directory("/empty");
  t.write();
  ASSERT_TRUE(fsck_passes(t.image()));

  const auto listed = dump_ls(t.image(), "/big");
  std::vector<std::string> expected = names;
  expected.push_back(".");
  expected.push_back("..");
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> got;
  for (const auto& d : listed) got.push_back(d.name);
  EXPECT_EQ(got, expected);  // dump.erofs lists the on-disk order
  const DumpedInode big = dump_path(t.image(), "/big");
  EXPECT_GT(big.size(), 10u * 4096u);  // many blocks
  for (const auto& d : listed) {
    if (d.name == ".") {
      EXPECT_EQ(d.nid, big.nid());
    } else if (d.name == "..") {
      EXPECT_EQ(d.nid, 36u);
    }
  }
  std::set<uint64_t> nids;
  for (const auto& d : listed) nids.insert(d.nid);
  EXPECT_EQ(nids.size(), names.size() + 2);  // every file, /big (".") and / ("..")

  const auto empty = dump_ls(t.image(), "/empty");
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0].name, ".");
  EXPECT_EQ(empty[1].name, "..");
  EXPECT_EQ(dump_path(t.image(), "/empty").size(), 27u);  // two dirents and "..."

  const fs::path out = t.dir.path() / "out";
  ASSERT_TRUE(extract(t.image(), out, {}));
  EXPECT_EQ(names_in(out / "big"), std::set<std::string>(names.begin(), names.end()));
  for (const auto& n : names) ASSERT_EQ(ctest::slurp(out / "big" / n), n) << n;
  EXPECT_TRUE(names_in(out / "empty").empty());
}

TEST(ErofsWriter, OddNamesAndTargetsRoundTrip) {
  Tree t;
  const std::vector<std::string> names{"with space",
                                       "new\nline",
                                       "tab\there",
                                       "\x01"
                                       "ctl",
                                       "\xff\xfe",
                                       "ünïcödé",
                                       "日本語",
                                       ".hidden",
                                       "..dots",
                                       "...",
                                       "-leading",
                                       std::string(255, 'n'),
                                       "quote\"'`$",
                                       "back\\slash"};
  t.directory("/odd");
  for (const auto& n : names) t.file("/odd/" + n, "content of " + n);
  t.symlink("/odd-link", "odd/new\nline");
  t.symlink("/long-link", std::string(4090, 'L'));  // too long to share the inode's block
  t.write();
  ASSERT_TRUE(fsck_passes(t.image()));
  const fs::path out = t.dir.path() / "out";
  ASSERT_TRUE(extract(t.image(), out, {}));
  EXPECT_EQ(names_in(out / "odd"), std::set<std::string>(names.begin(), names.end()));
  for (const auto& n : names) EXPECT_EQ(ctest::slurp(out / "odd" / n), "content of " + n);
  EXPECT_EQ(fs::read_symlink(out / "odd-link").string(), "odd/new\nline");
  EXPECT_EQ(fs::read_symlink(out / "long-link").string(), std::string(4090, 'L'));
  EXPECT_EQ(dump_path(t.image(), "/long-link").layout(), 0u);
}

TEST(ErofsWriter, LargeFilesStreamIntactWithProgress) {
  Tree t;
  const std::string odd = pseudo_random(10 * 1024 * 1024 + 777, 7);
  const std::string exact = pseudo_random(10 * 1024 * 1024, 8);
  t.file("/odd.bin", odd);
  t.file("/exact.bin", exact);
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  erofs::Options options;
  options.progress = [&](uint64_t written, uint64_t total) { calls.emplace_back(written, total); };
  const erofs::Stats stats = t.write(options);
  ASSERT_TRUE(fsck_passes(t.image()));
  const fs::path out = t.dir.path() / "out";
  ASSERT_TRUE(extract(t.image(), out, {}));
  EXPECT_EQ(oci::Sha256::of_file(out / "odd.bin"), oci::Sha256::of(odd));
  EXPECT_EQ(oci::Sha256::of_file(out / "exact.bin"), oci::Sha256::of(exact));
  EXPECT_EQ(dump_path(t.image(), "/odd.bin").layout(), 2u);  // 777 bytes after the inode
  EXPECT_EQ(dump_path(t.image(), "/exact.bin").layout(), 0u);
  // The image is the data plus one block of metadata.
  EXPECT_EQ(stats.image_bytes, (odd.size() / 4096 + exact.size() / 4096 + 1) * 4096);

  ASSERT_GE(calls.size(), 20u);
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_GT(calls[i].first, calls[i - 1].first);
  for (const auto& c : calls) EXPECT_EQ(c.second, stats.image_bytes);
  EXPECT_EQ(calls.back().first, stats.image_bytes);
}

TEST(ErofsWriter, TailsOfEverySizePackTightly) {
  // Tails of 1 to 4063 bytes go after their inodes; ones that do not fit the rest of a block
  // leave holes that later inodes fill.
  Tree t;
  std::mt19937 gen(5);
  uint64_t slots = 0;
  for (int i = 0; i < 400; ++i) {
    const size_t size = 1 + gen() % (3 * 4096);
    const std::string name = "f" + std::to_string(1000 + i);
    t.file("/" + name, pseudo_random(size, static_cast<uint32_t>(i)));
    if (size % 4096 != 0) slots += (32 + size % 4096 + 31) / 32 * 32;
  }
  const erofs::Stats stats = t.write();
  ASSERT_TRUE(fsck_passes(t.image()));
  const fs::path out = t.dir.path() / "out";
  ASSERT_TRUE(extract(t.image(), out, {}));
  for (const Entry& e : t.manifest) {
    if (e.type != EntryType::kFile) continue;
    ASSERT_EQ(ctest::slurp(out / e.path.substr(1)), ctest::slurp(t.root() / e.path.substr(1)))
        << e.path;
  }
  // The superblock, the root (400 entries: one block and a tail) and the files' slots, with at
  // most 2% lost to padding.
  const uint64_t root = 32 + (2 * 12 + 3 + 400 * (12 + 5)) % 4096;
  EXPECT_LE(stats.meta_bytes, 1152 + root + slots + slots / 50);
  EXPECT_GT(stats.meta_bytes, 1152 + slots);
}

TEST(ErofsWriter, SameInputGivesTheSameBytes) {
  Tree t;
  fill_every_kind(t);
  t.file("/x", "xattrs").xattrs = {{"user.k", "v"}, {"security.ima", "sig"}};
  t.write();
  const std::string first = ctest::slurp(t.image());
  t.write();
  EXPECT_EQ(ctest::slurp(t.image()), first);
  // The manifest's order does not matter either.
  std::vector<Entry> shuffled = t.sorted();
  std::shuffle(shuffled.begin() + 1, shuffled.end(), std::mt19937(42));
  const fs::path other = t.dir.path() / "other.erofs";
  erofs::write_image_file(other, shuffled, t.root());
  EXPECT_EQ(ctest::slurp(other), first);
  // And a different owner gives a different image (and uuid).
  Tree changed;
  fill_every_kind(changed);
  changed.file("/x", "xattrs").xattrs = {{"user.k", "v"}, {"security.ima", "sig"}};
  for (Entry& e : changed.manifest)
    if (e.path == "/etc-tail") e.uid = 1;
  changed.write();
  EXPECT_NE(ctest::slurp(changed.image()), first);
  EXPECT_NE(ctest::slurp(changed.image()).substr(1024 + 0x30, 16), first.substr(1024 + 0x30, 16));
}

TEST(ErofsWriter, StreamsToAPipeFromACallback) {
  Tree t;
  t.directory("/d");
  t.file("/d/a", pseudo_random(3 * 1024 * 1024 + 5, 3));
  t.file("/d/b", "bee");
  t.hardlink("/d/c", "/d/b");
  t.write();
  const std::string from_disk = ctest::slurp(t.image());

  std::map<std::string, std::string> files;
  for (const Entry& e : t.manifest)
    if (e.type == EntryType::kFile && e.hardlink.empty())
      files[e.path] = ctest::slurp(t.root() / e.path.substr(1));
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string piped;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) piped.append(buf, n);
  });
  erofs::write_image(fds[1], t.sorted(), opener_of(files));
  ::close(fds[1]);
  reader.join();
  ::close(fds[0]);
  EXPECT_EQ(piped, from_disk);
}

// Runs `write` and expects a c2w::Error whose message holds every one of `parts`.
template <typename F>
void expect_error(F write, const std::vector<std::string>& parts) {
  try {
    write();
    ADD_FAILURE() << "no error; expected one with '" << parts.front() << "'";
  } catch (const Error& e) {
    for (const auto& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "'" << e.what() << "' lacks '" << p << "'";
  }
}

TEST(ErofsWriter, ErrorsNameThePath) {
  {
    Tree t;
    t.file("/etc-f", "12345").size = 4;
    expect_error([&] { t.write(); }, {"/etc-f", "5 bytes", "says 4"});
    EXPECT_FALSE(fs::exists(t.image()));
    EXPECT_FALSE(fs::exists(t.image().string() + ".tmp"));
  }
  {
    Tree t;
    t.add(entry("/" + std::string(256, 'n'), EntryType::kFifo, 0644));
    expect_error([&] { t.write(); }, {std::string(256, 'n'), "255"});
  }
  {
    Tree t;
    t.file("/a", "a");
    t.hardlink("/b", "/missing");
    expect_error([&] { t.write(); }, {"/b", "/missing", "not in the manifest"});
  }
  {
    Tree t;
    t.directory("/dir");
    t.hardlink("/b", "/dir");
    expect_error([&] { t.write(); }, {"/b", "/dir", "not a regular file"});
  }
  {
    Tree t;
    t.file("/a", "a").xattrs["system.nfs4_acl"] = "x";
    expect_error([&] { t.write(); }, {"/a", "system.nfs4_acl", "namespace"});
  }
  {
    Tree t;
    t.file("/a", "a").xattrs["user.big"] = std::string(70000, 'v');
    expect_error([&] { t.write(); }, {"/a", "user.big", "65535"});
  }
  {
    Tree t;
    t.add(entry("/no/such/parent", EntryType::kFifo, 0644));
    expect_error([&] { t.write(); }, {"/no/such/parent", "/no/such"});
  }
  {
    Tree t;
    t.manifest.erase(t.manifest.begin());
    t.file("/a", "a");
    expect_error([&] { t.write(); }, {"no root"});
  }
  {
    Tree t;
    t.device("/dev-x", EntryType::kCharDevice, 4096, 0, 0600);
    expect_error([&] { t.write(); }, {"/dev-x", "4096:0"});
  }
  {
    Tree t;
    t.symlink("/l", std::string(4096, 'l'));
    expect_error([&] { t.write(); }, {"/l", "4095"});
  }
}

TEST(ErofsWriter, ErrorsForFilesThatChangeOrExceedTheLimits) {
  ctest::TempDir dir("c2w-erofs");
  std::vector<Entry> manifest{entry("/", EntryType::kDir, 0755),
                              entry("/f", EntryType::kFile, 0644)};
  // A file that says 2 blocks and a bit but ends after one block.
  manifest[1].size = 8192 + 10;
  const erofs::FileOpener shrinking = [](const Entry&) {
    return std::make_unique<StringReader>(std::string(4096, 's'), 8192 + 10);
  };
  Fd out(::open((dir.path() / "img").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  expect_error([&] { erofs::write_image(out.get(), manifest, shrinking); }, {"/f", "ended"});

  // 17 TiB of file data does not fit 2^32 blocks of 4 KiB; nothing is written.
  manifest[1].size = uint64_t{17} << 40;
  const erofs::FileOpener huge = [](const Entry& e) {
    return std::make_unique<StringReader>(std::string(), e.size);
  };
  Fd empty(::open((dir.path() / "huge").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  expect_error([&] { erofs::write_image(empty.get(), manifest, huge); }, {"/f", "2^32-1 blocks"});
  EXPECT_EQ(fs::file_size(dir.path() / "huge"), 0u);
}

}  // namespace
