// Message-level tests of a 9P2000.L session against a temp share: what the Linux v9fs client
// does for ls, cat, cp, mkdir, mv, rm, ln, truncate, touch, df and sync, and the errno values
// it must get back.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "tests/p9/p9_support.h"

namespace c2w::p9::test {
namespace {

using Session = ShareTest;

TEST(P9Version, NegotiatesMsizeAndVersion) {
  c2w::testing::TempDir tmp;
  std::unique_ptr<PosixFs> fs;
  ASSERT_EQ(PosixFs::create_share(tmp.path().c_str(), &fs), 0);
  ServerOptions o;
  o.max_msize = 128 * 1024;
  Server s(fs.get(), o);
  Client c(s, 256 * 1024);
  uint32_t m;
  std::string v;
  ASSERT_EQ(c.version(1 << 20, "9P2000.L", &m, &v), 0);
  EXPECT_EQ(m, 128u * 1024);
  EXPECT_EQ(v, "9P2000.L");
  EXPECT_EQ(s.msize(), 128u * 1024);
  ASSERT_EQ(c.version(8192, "9P2000.u", &m, &v), 0);
  EXPECT_EQ(v, "unknown");
  EXPECT_EQ(c.version(100, "9P2000.L", &m, &v), kEINVAL);
  // Tversion ends the session: fids from before are gone.
  ASSERT_EQ(c.version(8192, "9P2000.L", &m, &v), 0);
  ASSERT_EQ(c.attach(1), 0);
  EXPECT_EQ(c.attach(1), kEEXIST);
  ASSERT_EQ(c.version(8192, "9P2000.L", &m, &v), 0);
  EXPECT_EQ(c.clunk(1), kEBADF);
}

TEST_F(Session, FramingErrorsAndReplyCapacity) {
  uint8_t out[64];
  // A buffer that cannot hold an Rlerror gets nothing.
  uint8_t clunk[] = {11, 0, 0, 0, kTclunk, 5, 0, 0, 0, 0, 0};
  EXPECT_EQ(server().handle(clunk, sizeof clunk, out, 10), 0u);
  // Shorter than a header: Rlerror EINVAL with NOTAG.
  ASSERT_EQ(server().handle(clunk, 3, out, sizeof out), 11u);
  EXPECT_EQ(out[4], kRlerror);
  EXPECT_EQ(out[5] | out[6] << 8, kNoTag);
  EXPECT_EQ(out[7], kEINVAL);
  // A size field larger than the bytes given, or smaller than a header: EINVAL, tag echoed.
  uint8_t lying[] = {200, 0, 0, 0, kTclunk, 9, 0, 0, 0, 0, 0};
  ASSERT_EQ(server().handle(lying, sizeof lying, out, sizeof out), 11u);
  EXPECT_EQ(out[5], 9);
  EXPECT_EQ(out[7], kEINVAL);
  lying[0] = 3;
  ASSERT_EQ(server().handle(lying, sizeof lying, out, sizeof out), 11u);
  EXPECT_EQ(out[7], kEINVAL);
  // Arguments cut short: EINVAL, and nothing happened (fid 0 is still there).
  uint8_t cut[] = {9, 0, 0, 0, kTclunk, 1, 0, 0, 0};
  ASSERT_EQ(server().handle(cut, sizeof cut, out, sizeof out), 11u);
  EXPECT_EQ(out[7], kEINVAL);
  Getattr a;
  EXPECT_EQ(c().getattr(0, &a), 0);
  // A reply that does not fit the buffer given becomes EMSGSIZE; a read is clamped instead.
  Msg getattr;
  getattr.u32(19).u8(kTgetattr).u16(4).u32(0).u64(kGetattrBasic);
  ASSERT_EQ(server().handle(getattr.b.data(), getattr.b.size(), out, sizeof out), 11u);
  EXPECT_EQ(out[7], kEMSGSIZE);
  put(share() / "f", std::string(100, 'x'));
  ASSERT_EQ(c().walk(0, 1, {"f"}), 0);
  ASSERT_EQ(c().lopen(1, kO_RDONLY), 0);
  Msg read;
  read.u32(23).u8(kTread).u16(5).u32(1).u64(0).u32(1000);
  ASSERT_EQ(server().handle(read.b.data(), read.b.size(), out, sizeof out), sizeof out);
  EXPECT_EQ(out[4], kTread + 1);
  EXPECT_EQ(out[7], sizeof out - 11);
}

TEST_F(Session, WalkGetattrQidsMatchHostInodes) {
  std::filesystem::create_directories(share() / "a" / "b");
  put(share() / "a" / "b" / "f", "hello");
  std::vector<Qid> q;
  ASSERT_EQ(c().walk(0, 1, {"a", "b", "f"}, &q), 0);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[0].type, kQTDIR);
  EXPECT_EQ(q[1].type, kQTDIR);
  EXPECT_EQ(q[2].type, kQTFILE);
  EXPECT_EQ(q[2].path, lstat_of(share() / "a/b/f").st_ino);
  Getattr a;
  ASSERT_EQ(c().getattr(1, &a), 0);
  EXPECT_EQ(a.size, 5u);
  EXPECT_EQ(a.mode & kS_IFMT, kS_IFREG);
  EXPECT_EQ(a.qid.path, q[2].path);
  EXPECT_EQ(a.valid, kGetattrBasic);
  // The same file walked again has the same qid; ".." comes back to the parent.
  std::vector<Qid> q2;
  ASSERT_EQ(c().walk(0, 2, {"a", "b", "..", "b", "f"}, &q2), 0);
  EXPECT_EQ(q2[4].path, q[2].path);
  EXPECT_EQ(q2[2].path, q[0].path);
  // Zero names clone; newfid == fid walks in place.
  ASSERT_EQ(c().walk(1, 3, {}), 0);
  ASSERT_EQ(c().walk(0, 4, {"a"}), 0);
  ASSERT_EQ(c().walk(4, 4, {"b"}, &q), 0);
  ASSERT_EQ(c().getattr(4, &a), 0);
  EXPECT_EQ(a.qid.type, kQTDIR);
  EXPECT_EQ(c().walk(0, 3, {"a"}), kEEXIST);
}

TEST_F(Session, WalkErrorsAndPartialWalks) {
  std::filesystem::create_directories(share() / "d");
  put(share() / "file", "x");
  EXPECT_EQ(c().walk(0, 1, {"missing"}), kENOENT);
  std::vector<Qid> q;
  // The first name exists: a partial walk answers Rwalk with fewer qids, newfid not made.
  EXPECT_EQ(c().walk(0, 1, {"d", "missing"}, &q), kENOENT);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(c().clunk(1), kEBADF);
  EXPECT_EQ(c().walk(0, 1, {"file", "x"}, &q), kENOENT);
  EXPECT_EQ(q.size(), 1u);
  ASSERT_EQ(c().walk(0, 2, {"file"}), 0);
  EXPECT_EQ(c().walk(2, 3, {"x"}), kENOTDIR);
  EXPECT_EQ(c().walk(99, 3, {"d"}), kEBADF);
  std::vector<std::string> many(17, "d");
  EXPECT_EQ(c().walk(0, 3, many), kEINVAL);
  EXPECT_EQ(c().walk(0, 3, {"a/b"}), kEINVAL);
  EXPECT_EQ(c().walk(0, 3, {std::string(300, 'n')}), kENAMETOOLONG);
}

TEST_F(Session, ReadWriteCreate) {
  put(share() / "data", "0123456789");
  ASSERT_EQ(c().walk(0, 1, {"data"}), 0);
  ASSERT_EQ(c().lopen(1, kO_RDONLY), 0);
  std::string got;
  ASSERT_EQ(c().read(1, 3, 4, &got), 0);
  EXPECT_EQ(got, "3456");
  ASSERT_EQ(c().read(1, 8, 100, &got), 0);
  EXPECT_EQ(got, "89");
  ASSERT_EQ(c().read(1, 100, 100, &got), 0);
  EXPECT_EQ(got, "");
  EXPECT_EQ(c().write(1, 0, "x"), kEBADF);
  EXPECT_EQ(c().lopen(1, kO_RDONLY), kEINVAL);  // already open

  ASSERT_EQ(c().walk(0, 2, {}), 0);
  Qid q;
  ASSERT_EQ(c().lcreate(2, "new", kO_RDWR | kO_CREAT, 0640, &q), 0);
  EXPECT_EQ(q.type, kQTFILE);
  uint32_t n = 0;
  ASSERT_EQ(c().write(2, 0, "hello world", &n), 0);
  EXPECT_EQ(n, 11u);
  ASSERT_EQ(c().write(2, 6, "WORLD", &n), 0);
  EXPECT_EQ(get(share() / "new"), "hello WORLD");
  ASSERT_EQ(c().read(2, 0, 5, &got), 0);
  EXPECT_EQ(got, "hello");
  mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(lstat_of(share() / "new").st_mode & 0777, 0640u & ~mask);
  ASSERT_EQ(c().fsync(2), 0);
  ASSERT_EQ(c().clunk(2), 0);

  // Opening with O_TRUNC empties the file; a big read is clamped to the reply buffer.
  ASSERT_EQ(c().walk(0, 3, {"new"}), 0);
  ASSERT_EQ(c().lopen(3, kO_WRONLY | kO_TRUNC), 0);
  EXPECT_EQ(get(share() / "new"), "");
  std::string big(200000, 'z');
  put(share() / "big", big);
  ASSERT_EQ(c().walk(0, 4, {"big"}), 0);
  ASSERT_EQ(c().lopen(4, kO_RDONLY), 0);
  ASSERT_EQ(c().read(4, 0, 0xffffffffu, &got), 0);
  EXPECT_EQ(got.size(), 65536u - 11);
}

TEST_F(Session, ReaddirAcrossCallsWithOffsets) {
  std::set<std::string> want = {".", ".."};
  for (int i = 0; i < 60; ++i) {
    std::string name = "entry-with-a-longish-name-" + std::to_string(i);
    put(share() / name, "");
    want.insert(name);
  }
  std::filesystem::create_directories(share() / "subdir");
  want.insert("subdir");
  ASSERT_EQ(c().walk(0, 1, {}), 0);
  ASSERT_EQ(c().lopen(1, kO_RDONLY | kO_DIRECTORY), 0);
  std::vector<Dirent> all;
  uint64_t off = 0;
  int calls = 0;
  for (;;) {
    std::vector<Dirent> part;
    ASSERT_EQ(c().readdir(1, off, 300, &part), 0);
    if (part.empty()) break;
    ++calls;
    for (auto& d : part) all.push_back(d);
    off = part.back().offset;
    ASSERT_LT(calls, 1000);
  }
  EXPECT_GT(calls, 5);
  std::set<std::string> got;
  for (auto& d : all) {
    EXPECT_TRUE(got.insert(d.name).second) << "duplicate " << d.name;
    if (d.name == "subdir") {
      EXPECT_EQ(d.type, kDT_DIR);
      EXPECT_EQ(d.qid.type, kQTDIR);
      EXPECT_EQ(d.qid.path, lstat_of(share() / "subdir").st_ino);
    }
  }
  EXPECT_EQ(got, want);
  // Resuming from any earlier offset gives the same entries as the first pass did.
  std::vector<Dirent> again;
  ASSERT_EQ(c().readdir(1, all[10].offset, 300, &again), 0);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].name, all[11].name);
  again.clear();
  ASSERT_EQ(c().readdir(1, 0, 300, &again), 0);
  EXPECT_EQ(again[0].name, all[0].name);
  // Readdir needs an open directory.
  ASSERT_EQ(c().walk(0, 2, {"subdir"}), 0);
  EXPECT_EQ(c().readdir(2, 0, 300, &again), kEBADF);
  ASSERT_EQ(c().walk(0, 3, {"entry-with-a-longish-name-1"}), 0);
  ASSERT_EQ(c().lopen(3, kO_RDONLY), 0);
  EXPECT_EQ(c().readdir(3, 0, 300, &again), kENOTDIR);
}

TEST_F(Session, MkdirRenameUnlink) {
  ASSERT_EQ(c().mkdir(0, "dir", 0755), 0);
  EXPECT_TRUE(std::filesystem::is_directory(share() / "dir"));
  EXPECT_EQ(c().mkdir(0, "dir", 0755), kEEXIST);
  ASSERT_EQ(c().walk(0, 1, {"dir"}), 0);
  ASSERT_EQ(c().lcreate(1, "f", kO_WRONLY, 0644), 0);
  ASSERT_EQ(c().write(1, 0, "content"), 0);
  ASSERT_EQ(c().clunk(1), 0);
  ASSERT_EQ(c().walk(0, 2, {"dir", "f"}), 0);  // a fid that must follow the renames below
  ASSERT_EQ(c().walk(0, 3, {"dir"}), 0);

  ASSERT_EQ(c().renameat(0, "dir", 0, "dir2"), 0);
  EXPECT_TRUE(std::filesystem::exists(share() / "dir2" / "f"));
  Getattr a;
  ASSERT_EQ(c().getattr(2, &a), 0);
  EXPECT_EQ(a.size, 7u);
  ASSERT_EQ(c().rename(2, 3, "g"), 0);  // Trename: fid 2 moves to dir2/g
  EXPECT_EQ(get(share() / "dir2" / "g"), "content");
  ASSERT_EQ(c().lopen(2, kO_RDONLY), 0);
  std::string got;
  ASSERT_EQ(c().read(2, 0, 100, &got), 0);
  EXPECT_EQ(got, "content");

  EXPECT_EQ(c().unlinkat(0, "dir2", kAtRemoveDir), kENOTEMPTY);
  EXPECT_EQ(c().unlinkat(0, "dir2", 0), kEISDIR);
  EXPECT_EQ(c().unlinkat(3, "missing", 0), kENOENT);
  ASSERT_EQ(c().unlinkat(3, "g", 0), 0);
  ASSERT_EQ(c().unlinkat(0, "dir2", kAtRemoveDir), 0);
  EXPECT_FALSE(std::filesystem::exists(share() / "dir2"));
  EXPECT_EQ(c().renameat(0, "nothing", 0, "x"), kENOENT);
}

TEST_F(Session, SymlinkReadlinkLink) {
  put(share() / "target", "T");
  ASSERT_EQ(c().symlink(0, "sl", "../anywhere/it/likes"), 0);
  EXPECT_EQ(std::filesystem::read_symlink(share() / "sl"), "../anywhere/it/likes");
  std::vector<Qid> q;
  ASSERT_EQ(c().walk(0, 1, {"sl"}, &q), 0);
  EXPECT_EQ(q[0].type, kQTSYMLINK);
  std::string t;
  ASSERT_EQ(c().readlink(1, &t), 0);
  EXPECT_EQ(t, "../anywhere/it/likes");
  Getattr a;
  ASSERT_EQ(c().getattr(1, &a), 0);
  EXPECT_EQ(a.mode & kS_IFMT, kS_IFLNK);
  EXPECT_EQ(c().lopen(1, kO_RDONLY), kELOOP);
  EXPECT_EQ(c().symlink(0, "sl", "x"), kEEXIST);
  EXPECT_EQ(c().symlink(0, "empty", ""), kENOENT);

  ASSERT_EQ(c().walk(0, 2, {"target"}), 0);
  EXPECT_EQ(c().readlink(2, &t), kEINVAL);
  ASSERT_EQ(c().link(0, 2, "hard"), 0);
  EXPECT_EQ(lstat_of(share() / "hard").st_ino, lstat_of(share() / "target").st_ino);
  ASSERT_EQ(c().getattr(2, &a), 0);
  EXPECT_EQ(a.nlink, 2u);
  EXPECT_EQ(c().link(0, 2, "hard"), kEEXIST);
  EXPECT_EQ(c().link(2, 2, "x"), kENOTDIR);
}

TEST_F(Session, SetattrTruncateModeTimes) {
  put(share() / "f", "0123456789");
  ASSERT_EQ(c().walk(0, 1, {"f"}), 0);
  ASSERT_EQ(c().setattr(1, kSetSize, 0, 0, 0, 3), 0);
  EXPECT_EQ(get(share() / "f"), "012");
  ASSERT_EQ(c().setattr(1, kSetMode, 0600, 0, 0, 0), 0);
  EXPECT_EQ(lstat_of(share() / "f").st_mode & 07777, 0600u);
  ASSERT_EQ(c().setattr(1, kSetMtime | kSetMtimeSet | kSetAtime | kSetAtimeSet, 0, 0, 0, 0, 1000000,
                        2000000),
            0);
  struct stat st = lstat_of(share() / "f");
  EXPECT_EQ(st.st_atime, 1000000);
  EXPECT_EQ(st.st_mtime, 2000000);
  Getattr a;
  ASSERT_EQ(c().getattr(1, &a), 0);
  EXPECT_EQ(a.mtime, 2000000u);
  EXPECT_EQ(a.size, 3u);
  // On an open writable fid the size change goes through the open file.
  ASSERT_EQ(c().lopen(1, kO_RDWR), 0);
  ASSERT_EQ(c().setattr(1, kSetSize, 0, 0, 0, 0), 0);
  EXPECT_EQ(get(share() / "f"), "");
  ASSERT_EQ(c().setattr(0, kSetSize, 0, 0, 0, 0), kEISDIR);
}

TEST_F(Session, StatfsFsyncXattrLockFlush) {
  uint32_t type = 0, namelen = 0;
  ASSERT_EQ(c().statfs(0, &type, &namelen), 0);
  EXPECT_EQ(type, kV9fsMagic);
  EXPECT_GT(namelen, 0u);
  EXPECT_EQ(c().fsync(0), kEBADF);  // not open
  uint64_t size = 1;
  ASSERT_EQ(c().xattrwalk(0, 5, "", &size), 0);
  EXPECT_EQ(size, 0u);
  std::string got = "x";
  ASSERT_EQ(c().read(5, 0, 100, &got), 0);
  EXPECT_EQ(got, "");
  EXPECT_EQ(c().xattrwalk(0, 6, "user.x", &size), kENODATA);
  EXPECT_EQ(c().xattrwalk(0, 6, "system.posix_acl_access", &size), kENODATA);
  Reply r = c().call(kTxattrcreate, Msg().u32(0).str("user.x").u64(1).u32(0));
  EXPECT_EQ(r.type, kRlerror);
  EXPECT_EQ(r.u32(), static_cast<uint32_t>(kEOPNOTSUPP));

  r = c().call(kTlock, Msg().u32(0).u8(1).u32(0).u64(0).u64(0).u32(42).str("guest"));
  ASSERT_EQ(r.type, kTlock + 1);
  EXPECT_EQ(r.u8(), kLockSuccess);
  r = c().call(kTgetlock, Msg().u32(0).u8(1).u64(5).u64(10).u32(42).str("guest"));
  ASSERT_EQ(r.type, kTgetlock + 1);
  EXPECT_EQ(r.u8(), kLockUnlocked);
  EXPECT_EQ(r.u64(), 5u);
  EXPECT_EQ(r.u64(), 10u);
  EXPECT_EQ(r.u32(), 42u);
  EXPECT_EQ(r.str(), "guest");
  r = c().call(kTflush, Msg().u16(7));
  EXPECT_EQ(r.type, kTflush + 1);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(Session, ErrnoValuesLinuxExpects) {
  std::filesystem::create_directories(share() / "d");
  put(share() / "f", "x");
  ASSERT_EQ(c().walk(0, 1, {"d"}), 0);
  EXPECT_EQ(c().lopen(1, kO_WRONLY), kEISDIR);
  ASSERT_EQ(c().walk(0, 2, {}), 0);
  EXPECT_EQ(c().lcreate(2, "f", kO_RDWR | kO_CREAT | kO_EXCL, 0644), kEEXIST);
  EXPECT_EQ(c().lcreate(2, "d", kO_RDWR | kO_CREAT, 0644), kEISDIR);
  ASSERT_EQ(c().walk(0, 3, {"f"}), 0);
  EXPECT_EQ(c().lcreate(3, "x", kO_RDWR, 0644), kENOTDIR);
  EXPECT_EQ(c().mkdir(3, "x", 0755), kENOTDIR);
  EXPECT_EQ(c().mknod(0, "chr", kS_IFCHR | 0666), kEPERM);
  EXPECT_EQ(c().mknod(0, "blk", kS_IFBLK | 0666), kEPERM);
  ASSERT_EQ(c().mknod(0, "fifo", kS_IFIFO | 0644), 0);
  EXPECT_TRUE(S_ISFIFO(lstat_of(share() / "fifo").st_mode));
  // A fifo is the guest kernel's business: the server never opens it on the host.
  ASSERT_EQ(c().walk(0, 4, {"fifo"}), 0);
  EXPECT_EQ(c().lopen(4, kO_RDONLY), kENXIO);
  EXPECT_EQ(c().clunk(77), kEBADF);
  Reply r = c().call(0x42, Msg().u32(0));
  EXPECT_EQ(r.type, kRlerror);
  EXPECT_EQ(r.u32(), static_cast<uint32_t>(kEOPNOTSUPP));
  r = c().call(kTauth, Msg().u32(9).str("u").str("a").u32(0));
  EXPECT_EQ(r.u32(), static_cast<uint32_t>(kEOPNOTSUPP));
  // Tremove clunks the fid even when the removal fails.
  EXPECT_EQ(c().remove(0), kEBUSY);
  EXPECT_EQ(c().clunk(0), kEBADF);
  ASSERT_EQ(c().attach(0), 0);
  ASSERT_EQ(c().walk(0, 5, {"f"}), 0);
  ASSERT_EQ(c().remove(5), 0);
  EXPECT_FALSE(std::filesystem::exists(share() / "f"));
  EXPECT_EQ(c().clunk(5), kEBADF);
}

class ReadOnly : public ShareTest {
  ServerOptions options() override {
    ServerOptions o;
    o.read_only = true;
    return o;
  }
};

TEST_F(ReadOnly, EveryChangeIsEROFS) {
  put(share() / "f", "data");
  std::filesystem::create_directories(share() / "d");
  ASSERT_EQ(c().walk(0, 1, {"f"}), 0);
  EXPECT_EQ(c().lopen(1, kO_RDWR), kEROFS);
  EXPECT_EQ(c().lopen(1, kO_RDONLY | kO_TRUNC), kEROFS);
  ASSERT_EQ(c().lopen(1, kO_RDONLY), 0);
  std::string got;
  ASSERT_EQ(c().read(1, 0, 10, &got), 0);
  EXPECT_EQ(got, "data");
  EXPECT_EQ(c().write(1, 0, "x"), kEROFS);
  ASSERT_EQ(c().walk(0, 2, {}), 0);
  EXPECT_EQ(c().lcreate(2, "n", kO_RDWR, 0644), kEROFS);
  EXPECT_EQ(c().mkdir(0, "n", 0755), kEROFS);
  EXPECT_EQ(c().symlink(0, "n", "t"), kEROFS);
  EXPECT_EQ(c().mknod(0, "n", kS_IFIFO | 0644), kEROFS);
  EXPECT_EQ(c().link(0, 1, "n"), kEROFS);
  EXPECT_EQ(c().renameat(0, "f", 0, "g"), kEROFS);
  EXPECT_EQ(c().rename(1, 0, "g"), kEROFS);
  EXPECT_EQ(c().unlinkat(0, "f", 0), kEROFS);
  EXPECT_EQ(c().unlinkat(0, "d", kAtRemoveDir), kEROFS);
  EXPECT_EQ(c().setattr(1, kSetSize, 0, 0, 0, 0), kEROFS);
  EXPECT_EQ(c().setattr(1, kSetMode, 0600, 0, 0, 0), kEROFS);
  EXPECT_EQ(c().setattr(1, kSetMtime, 0, 0, 0, 0), kEROFS);
  Reply r = c().call(kTxattrcreate, Msg().u32(0).str("user.x").u64(1).u32(0));
  EXPECT_EQ(r.u32(), static_cast<uint32_t>(kEROFS));
  ASSERT_EQ(c().walk(0, 3, {"f"}), 0);
  EXPECT_EQ(c().remove(3), kEROFS);
  EXPECT_EQ(get(share() / "f"), "data");
  EXPECT_TRUE(std::filesystem::exists(share() / "d"));
  EXPECT_FALSE(std::filesystem::exists(share() / "n"));
  EXPECT_FALSE(std::filesystem::exists(share() / "g"));
}

}  // namespace
}  // namespace c2w::p9::test
