// Server snapshots: a session saved in one Server and restored into a new Server over a new
// PosixFs (as in another process) continues where it was: reads at their offsets, readdir from
// the last cookie, writes to files opened for writing. Malformed state is refused whole.
// Also: ownership and modes a host cannot apply (WASI) are recorded and survive the snapshot.
#include <sys/stat.h>

#include <set>

#include "tests/p9/p9_support.h"

namespace c2w::p9::test {
namespace {

using State = ShareTest;

std::string pattern(size_t n) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

TEST_F(State, RoundTripContinuesFromTheSameOffsets) {
  put(share() / "data", pattern(1000));
  put(share() / "w", "");
  std::filesystem::create_directories(share() / "d");
  for (int i = 0; i < 40; ++i) put(share() / "d" / ("entry-" + std::to_string(i)), "");
  std::string got;
  ASSERT_EQ(c().walk(0, 1, {"data"}), 0);
  ASSERT_EQ(c().lopen(1, kO_RDONLY), 0);
  ASSERT_EQ(c().read(1, 0, 100, &got), 0);
  ASSERT_EQ(got, pattern(1000).substr(0, 100));
  ASSERT_EQ(c().walk(0, 2, {"d"}), 0);
  ASSERT_EQ(c().lopen(2, kO_RDONLY), 0);
  std::vector<Dirent> first;
  ASSERT_EQ(c().readdir(2, 0, 200, &first), 0);
  ASSERT_FALSE(first.empty());
  ASSERT_EQ(c().walk(0, 3, {"d", "entry-5"}), 0);
  ASSERT_EQ(c().walk(0, 4, {"w"}), 0);
  ASSERT_EQ(c().lopen(4, kO_RDWR), 0);
  ASSERT_EQ(c().write(4, 0, "abc"), 0);
  uint64_t xsize;
  ASSERT_EQ(c().xattrwalk(0, 5, "", &xsize), 0);
  std::vector<uint8_t> saved = server().save();
  uint32_t msize = server().msize();
  size_t nfids = server().fid_count();

  // Another process: new host fs object, new server, nothing shared but the bytes.
  client_.reset();
  server_.reset();
  fs_.reset();
  std::unique_ptr<PosixFs> fs2;
  ASSERT_EQ(PosixFs::create_share(share().c_str(), &fs2), 0);
  Server s2(fs2.get(), ServerOptions{});
  ASSERT_EQ(s2.restore(saved.data(), saved.size()), 0);
  EXPECT_EQ(s2.msize(), msize);
  EXPECT_EQ(s2.fid_count(), nfids);
  EXPECT_EQ(s2.save(), saved);
  Client c2(s2);

  ASSERT_EQ(c2.read(1, 100, 200, &got), 0);
  EXPECT_EQ(got, pattern(1000).substr(100, 200));
  std::vector<Dirent> all = first;
  uint64_t off = first.back().offset;
  for (int guard = 0; guard < 100; ++guard) {
    std::vector<Dirent> part;
    ASSERT_EQ(c2.readdir(2, off, 200, &part), 0);
    if (part.empty()) break;
    all.insert(all.end(), part.begin(), part.end());
    off = part.back().offset;
  }
  std::set<std::string> names;
  for (auto& d : all) EXPECT_TRUE(names.insert(d.name).second) << d.name;
  EXPECT_EQ(names.size(), 42u);  // 40 entries, ".", ".."
  Getattr a;
  ASSERT_EQ(c2.getattr(3, &a), 0);
  EXPECT_EQ(a.qid.path, lstat_of(share() / "d" / "entry-5").st_ino);
  ASSERT_EQ(c2.write(4, 3, "def"), 0);
  EXPECT_EQ(get(share() / "w"), "abcdef");
  ASSERT_EQ(c2.read(5, 0, 10, &got), 0);
  EXPECT_EQ(got, "");
  // The walked-only fid is still not open; the open ones cannot be opened twice.
  EXPECT_EQ(c2.read(3, 0, 10, &got), kEBADF);
  EXPECT_EQ(c2.lopen(1, kO_RDONLY), kEINVAL);
  for (uint32_t fid = 0; fid <= 5; ++fid) EXPECT_EQ(c2.clunk(fid), 0);
  EXPECT_EQ(s2.fid_count(), 0u);
}

TEST_F(State, ReopenOfAFileGoneSinceTheSnapshotFails) {
  put(share() / "gone", "x");
  ASSERT_EQ(c().walk(0, 1, {"gone"}), 0);
  ASSERT_EQ(c().lopen(1, kO_RDONLY), 0);
  std::vector<uint8_t> saved = server().save();
  std::filesystem::remove(share() / "gone");
  Server s2(fs_.get(), ServerOptions{});
  ASSERT_EQ(s2.restore(saved.data(), saved.size()), 0);
  Client c2(s2);
  std::string got;
  EXPECT_EQ(c2.read(1, 0, 10, &got), kENOENT);
  EXPECT_EQ(c2.clunk(1), 0);
}

// A snapshot with one fid whose path and flags the test chooses.
std::vector<uint8_t> crafted(const std::string& path, uint32_t version = 1, uint32_t nfid = 1,
                             uint32_t flags = 0) {
  Msg m;
  m.b = {'C', '2', 'P', '9'};
  m.u32(version).u32(65536).u32(0).u32(nfid);
  for (uint32_t i = 0; i < nfid; ++i) {
    m.u32(7).u8(kQTFILE).u8(2).u32(flags).u32(static_cast<uint32_t>(path.size()));
    m.b.insert(m.b.end(), path.begin(), path.end());
  }
  return m.b;
}

TEST_F(State, MalformedStateIsRefusedAndTheSessionKept) {
  put(share() / "f", "kept");
  ASSERT_EQ(c().walk(0, 1, {"f"}), 0);
  ASSERT_EQ(c().lopen(1, kO_RDONLY), 0);
  std::vector<uint8_t> good = server().save();
  for (size_t n = 0; n < good.size(); ++n)
    ASSERT_EQ(server().restore(good.data(), n), kEINVAL) << "truncated at " << n;
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  EXPECT_EQ(server().restore(longer.data(), longer.size()), kEINVAL);
  EXPECT_EQ(server().restore(crafted("f", 2).data(), crafted("f", 2).size()), kEINVAL);
  for (const std::string bad : {"../outside/secret", "a//b", "/abs", "x/..", "./f", "f/"}) {
    auto b = crafted(bad);
    EXPECT_EQ(server().restore(b.data(), b.size()), kEINVAL) << bad;
  }
  auto dup = crafted("f", 1, 2);
  EXPECT_EQ(server().restore(dup.data(), dup.size()), kEINVAL);
  auto badflags = crafted("f", 1, 1, kO_TRUNC);
  EXPECT_EQ(server().restore(badflags.data(), badflags.size()), kEINVAL);
  std::string got;
  ASSERT_EQ(c().read(1, 0, 10, &got), 0);  // the live session survived every refusal
  EXPECT_EQ(got, "kept");
  auto ok = crafted("f");
  ASSERT_EQ(server().restore(ok.data(), ok.size()), 0);
  ASSERT_EQ(c().read(7, 0, 10, &got), 0);
  EXPECT_EQ(got, "kept");
  EXPECT_EQ(c().read(1, 0, 10, &got), kEBADF);
}

// A host like WASI: no chmod, no chown.
class NoOwnershipFs final : public HostFs {
 public:
  explicit NoOwnershipFs(HostFs* in) : in_(in) {}
  int lstat(const std::string& p, Attr* a) override { return in_->lstat(p, a); }
  int open(const std::string& p, uint32_t f, Handle* h) override { return in_->open(p, f, h); }
  int create(const std::string& d, const std::string& n, uint32_t f, uint32_t m,
             Handle* h) override {
    return in_->create(d, n, f, m, h);
  }
  void close(Handle h) override { in_->close(h); }
  int fstat(Handle h, Attr* a) override { return in_->fstat(h, a); }
  int pread(Handle h, uint8_t* b, size_t l, uint64_t o, size_t* g) override {
    return in_->pread(h, b, l, o, g);
  }
  int pwrite(Handle h, const uint8_t* b, size_t l, uint64_t o, size_t* p) override {
    return in_->pwrite(h, b, l, o, p);
  }
  int fsync(Handle h, bool d) override { return in_->fsync(h, d); }
  int ftruncate(Handle h, uint64_t s) override { return in_->ftruncate(h, s); }
  int readdir(Handle h, uint64_t p, DirEntry* e, bool* end) override {
    return in_->readdir(h, p, e, end);
  }
  int chmod(const std::string&, uint32_t) override { return kEOPNOTSUPP; }
  int chown(const std::string&, uint32_t, uint32_t) override { return kEOPNOTSUPP; }
  int truncate(const std::string& p, uint64_t s) override { return in_->truncate(p, s); }
  int utimes(const std::string& p, const TimeSet& a, const TimeSet& m) override {
    return in_->utimes(p, a, m);
  }
  int mkdir(const std::string& d, const std::string& n, uint32_t m) override {
    return in_->mkdir(d, n, m);
  }
  int symlink(const std::string& d, const std::string& n, const std::string& t) override {
    return in_->symlink(d, n, t);
  }
  int mknod(const std::string& d, const std::string& n, uint32_t m) override {
    return in_->mknod(d, n, m);
  }
  int link(const std::string& e, const std::string& d, const std::string& n) override {
    return in_->link(e, d, n);
  }
  int readlink(const std::string& p, std::string* t) override { return in_->readlink(p, t); }
  int rename(const std::string& od, const std::string& on, const std::string& nd,
             const std::string& nn) override {
    return in_->rename(od, on, nd, nn);
  }
  int unlink(const std::string& d, const std::string& n, bool dir) override {
    return in_->unlink(d, n, dir);
  }
  int statfs(FsStat* s) override { return in_->statfs(s); }

 private:
  HostFs* in_;
};

TEST_F(State, OwnershipTheHostCannotApplyIsRecordedAndSaved) {
  put(share() / "f", "x");
  ::chmod((share() / "f").c_str(), 0644);
  NoOwnershipFs wasi_like(fs_.get());
  Server s(&wasi_like, ServerOptions{});
  Client cl(s);
  ASSERT_EQ(cl.start(), 0);
  ASSERT_EQ(cl.walk(0, 1, {"f"}), 0);
  ASSERT_EQ(cl.setattr(1, kSetMode | kSetUid | kSetGid, 0700, 1000, 2000, 0), 0);
  Getattr a;
  ASSERT_EQ(cl.getattr(1, &a), 0);
  EXPECT_EQ(a.mode, kS_IFREG | 0700);
  EXPECT_EQ(a.uid, 1000u);
  EXPECT_EQ(a.gid, 2000u);
  EXPECT_EQ(lstat_of(share() / "f").st_mode & 07777, 0644u);  // the host file is as it was
  ASSERT_EQ(cl.setattr(1, kSetGid, 0, 0, 3000, 0), 0);        // only the gid changes
  ASSERT_EQ(cl.walk(0, 2, {"f"}), 0);
  ASSERT_EQ(cl.getattr(2, &a), 0);
  EXPECT_EQ(a.uid, 1000u);
  EXPECT_EQ(a.gid, 3000u);

  std::vector<uint8_t> saved = s.save();
  Server s2(&wasi_like, ServerOptions{});
  ASSERT_EQ(s2.restore(saved.data(), saved.size()), 0);
  Client c2(s2);
  ASSERT_EQ(c2.getattr(2, &a), 0);
  EXPECT_EQ(a.mode, kS_IFREG | 0700);
  EXPECT_EQ(a.uid, 1000u);
  EXPECT_EQ(a.gid, 3000u);
}

}  // namespace
}  // namespace c2w::p9::test
