// Hostile-guest robustness: thousands of seeded random, structured-but-wrong and mutated
// messages against a temp share. The process must survive, every reply must be well-formed
// (size field = length, tag echoed, R-type = T-type + 1 or Rlerror with a plausible errno,
// never more than the buffer), fids stay bounded, and the file outside the share is untouched.
// Same for snapshots: mutated save() data is refused or accepted, never a crash.
#include <random>

#include "tests/p9/p9_support.h"

namespace c2w::p9::test {
namespace {

class Fuzz : public ShareTest {
 protected:
  ServerOptions options() override {
    ServerOptions o;
    o.max_fids = 64;
    o.max_msize = 64 * 1024;
    return o;
  }
  void SetUp() override {
    ShareTest::SetUp();
    std::filesystem::create_directories(share() / "sub" / "deeper");
    put(share() / "f", "file contents");
    put(share() / "sub" / "g", "more");
    std::filesystem::create_symlink(outside() / "secret", share() / "esc");
    std::filesystem::create_directory_symlink("../outside", share() / "escdir");
  }

  uint32_t any_fid() {
    switch (rng_() % 8) {
      case 0:
        return static_cast<uint32_t>(rng_());
      case 1:
        return kNoFid;
      default:
        return static_cast<uint32_t>(rng_() % 8);
    }
  }
  // Gives the random stream live fids to hit: attached roots and walked, opened files and dirs.
  void prime() {
    uint32_t fid = static_cast<uint32_t>(rng_() % 8);
    c().clunk(fid);
    switch (rng_() % 4) {
      case 0:
        c().attach(fid);
        break;
      case 1:
        if (c().walk(0, fid, {"sub"}) == 0) c().lopen(fid, kO_RDONLY);
        break;
      default:
        if (c().walk(0, fid, {rng_() % 2 ? "f" : "sub", rng_() % 2 ? "g" : "deeper"}) != 0)
          c().walk(0, fid, {"f"});
        c().lopen(fid, rng_() % 2 ? kO_RDWR : kO_RDONLY);
    }
  }
  std::string any_name() {
    static const char* kNames[] = {"f", "sub", "deeper", "g",       "esc",    "escdir", "..", ".",
                                   "",  "new", "x/y",    "outside", "secret", "n1",     "n2"};
    switch (rng_() % 10) {
      case 0:
        return std::string(rng_() % 400, 'L');
      case 1: {
        std::string s(rng_() % 12, '\0');
        for (char& ch : s) ch = static_cast<char>(rng_());
        return s;
      }
      default:
        return kNames[rng_() % (sizeof kNames / sizeof *kNames)];
    }
  }
  uint64_t any_u64() {
    switch (rng_() % 4) {
      case 0:
        return rng_();
      case 1:
        return ~0ull - rng_() % 4;
      default:
        return rng_() % 70000;
    }
  }
  uint32_t any_u32() { return static_cast<uint32_t>(any_u64()); }

  // A message of a real type with fields that are sometimes right and often wrong.
  std::vector<uint8_t> structured() {
    static const uint8_t kTypes[] = {
        kTversion, kTattach,    kTwalk,        kTclunk,  kTremove,   kTgetattr,  kTsetattr,
        kTlopen,   kTlcreate,   kTread,        kTwrite,  kTreaddir,  kTmkdir,    kTsymlink,
        kTmknod,   kTlink,      kTreadlink,    kTrename, kTrenameat, kTunlinkat, kTstatfs,
        kTfsync,   kTxattrwalk, kTxattrcreate, kTlock,   kTgetlock,  kTflush,    kTauth,
        0,         255,         kRlerror,      113};
    uint8_t type = kTypes[rng_() % (sizeof kTypes)];
    if (type == kTversion && rng_() % 8) type = kTread;  // a new session drops every fid
    Msg m;
    switch (type) {
      case kTversion:
        m.u32(rng_() % 2 ? any_u32() : 8192).str(rng_() % 4 ? "9P2000.L" : any_name());
        break;
      case kTattach:
        m.u32(any_fid()).u32(any_fid()).str(any_name()).str(any_name()).u32(any_u32());
        break;
      case kTwalk: {
        uint16_t n = static_cast<uint16_t>(rng_() % 20);
        m.u32(any_fid()).u32(any_fid()).u16(rng_() % 8 ? n : static_cast<uint16_t>(rng_()));
        for (uint16_t i = 0; i < n; ++i) m.str(any_name());
        break;
      }
      case kTlcreate:
        m.u32(any_fid()).str(any_name()).u32(any_u32()).u32(any_u32()).u32(0);
        break;
      case kTwrite: {
        uint32_t n = static_cast<uint32_t>(rng_() % 300);
        m.u32(any_fid()).u64(any_u64()).u32(rng_() % 4 ? n : any_u32());
        for (uint32_t i = 0; i < n; ++i) m.u8(static_cast<uint8_t>(rng_()));
        break;
      }
      case kTsetattr:
        m.u32(any_fid()).u32(any_u32()).u32(any_u32()).u32(any_u32()).u32(any_u32());
        m.u64(rng_() % 5000).u64(any_u64()).u64(any_u64()).u64(any_u64()).u64(any_u64());
        break;
      case kTmkdir:
      case kTsymlink:
      case kTmknod:
      case kTunlinkat:
        m.u32(any_fid()).str(any_name());
        if (type == kTsymlink) m.str(any_name());
        m.u32(any_u32()).u32(any_u32()).u32(any_u32()).u32(any_u32());
        break;
      case kTrenameat:
        m.u32(any_fid()).str(any_name()).u32(any_fid()).str(any_name());
        break;
      case kTrename:
      case kTlink:
      case kTxattrwalk:
        m.u32(any_fid()).u32(any_fid()).str(any_name());
        break;
      case kTlock:
      case kTgetlock:
        m.u32(any_fid()).u8(static_cast<uint8_t>(rng_())).u32(any_u32()).u64(any_u64());
        m.u64(any_u64()).u32(any_u32()).str(any_name());
        break;
      default:  // fid first, then numbers: read, readdir, getattr, lopen, clunk, fsync, ...
        m.u32(any_fid()).u64(any_u64()).u32(any_u32()).u32(any_u32());
        break;
    }
    if (rng_() % 6 == 0) m.b.resize(rng_() % (m.b.size() + 1));  // truncated arguments
    Msg whole;
    whole.u32(static_cast<uint32_t>(7 + m.b.size())).u8(type).u16(static_cast<uint16_t>(rng_()));
    whole.b.insert(whole.b.end(), m.b.begin(), m.b.end());
    return whole.b;
  }

  std::vector<uint8_t> mutated(std::vector<uint8_t> b) {
    int edits = 1 + static_cast<int>(rng_() % 4);
    for (int i = 0; i < edits && !b.empty(); ++i) {
      size_t at = rng_() % b.size();
      switch (rng_() % 4) {
        case 0:
          b[at] = static_cast<uint8_t>(rng_());
          break;
        case 1:
          b.resize(at);
          break;
        case 2:
          b.insert(b.begin() + static_cast<long>(at), static_cast<uint8_t>(rng_()));
          break;
        default:
          if (b.size() >= 4) {  // a lying size field
            uint32_t v = static_cast<uint32_t>(rng_() % 3 ? rng_() % 100 : rng_());
            for (int k = 0; k < 4; ++k) b[k] = static_cast<uint8_t>(v >> (8 * k));
          }
      }
    }
    return b;
  }

  void check_reply(const std::vector<uint8_t>& req, const uint8_t* out, size_t n, size_t cap) {
    ASSERT_LE(n, cap);
    if (cap < 11) {
      ASSERT_EQ(n, 0u);
      return;
    }
    ASSERT_GE(n, 7u);
    uint32_t size = out[0] | out[1] << 8 | out[2] << 16 | static_cast<uint32_t>(out[3]) << 24;
    ASSERT_EQ(size, n);
    if (out[4] == kRlerror) {
      ASSERT_EQ(n, 11u);
      uint32_t e = out[7] | out[8] << 8 | out[9] << 16 | static_cast<uint32_t>(out[10]) << 24;
      ASSERT_GE(e, 1u);
      ASSERT_LE(e, 133u);
    }
    if (req.size() >= 7) {
      uint32_t rsize = req[0] | req[1] << 8 | req[2] << 16 | static_cast<uint32_t>(req[3]) << 24;
      if (rsize >= 7 && rsize <= req.size()) {
        ASSERT_TRUE(out[4] == kRlerror || out[4] == static_cast<uint8_t>(req[4] + 1));
        ASSERT_EQ(out[5], req[5]);
        ASSERT_EQ(out[6], req[6]);
      }
    }
  }

  std::mt19937_64 rng_{0x9e3779b97f4a7c15ull};
};

TEST_F(Fuzz, RandomStructuredAndMutatedMessages) {
  std::vector<std::vector<uint8_t>> seen;
  std::vector<uint8_t> out(70000);
  const size_t kCaps[] = {0, 5, 11, 40, 300, 4096, 70000};
  int replies_ok = 0;
  for (int i = 0; i < 30000; ++i) {
    std::vector<uint8_t> req;
    switch (rng_() % 8) {
      case 0: {
        req.resize(rng_() % 64);
        for (auto& b : req) b = static_cast<uint8_t>(rng_());
        break;
      }
      case 1:
      case 2:
        if (!seen.empty()) {
          req = mutated(seen[rng_() % seen.size()]);
          break;
        }
        [[fallthrough]];
      default:
        req = structured();
        if (seen.size() < 512) seen.push_back(req);
        break;
    }
    if (rng_() % 8 == 0) {
      c().attach(0);
      prime();
    }
    size_t cap = kCaps[rng_() % (sizeof kCaps / sizeof *kCaps)];
    size_t n = server().handle(req.data(), req.size(), out.data(), cap);
    ASSERT_NO_FATAL_FAILURE(check_reply(req, out.data(), n, cap)) << "message " << i;
    ASSERT_LE(server().fid_count(), 64u);
    if (n > 4 && out[4] != kRlerror) ++replies_ok;
  }
  EXPECT_GT(replies_ok, 1000);  // the generator reaches real work, not only errors
  expect_outside_intact();
}

TEST_F(Fuzz, MutatedSnapshotsAreRefusedOrAccepted) {
  ASSERT_EQ(c().walk(0, 1, {"sub", "g"}), 0);
  ASSERT_EQ(c().lopen(1, kO_RDONLY), 0);
  ASSERT_EQ(c().walk(0, 2, {"sub"}), 0);
  ASSERT_EQ(c().lopen(2, kO_RDONLY), 0);
  std::vector<uint8_t> good = server().save();
  for (int i = 0; i < 5000; ++i) {
    std::vector<uint8_t> bad = mutated(good);
    int e = server().restore(bad.data(), bad.size());
    ASSERT_TRUE(e == 0 || e == kEINVAL);
    Getattr a;
    for (uint32_t fid = 0; fid < 4; ++fid) c().getattr(fid, &a);  // any state must be usable
    std::string data;
    c().read(1, 0, 10, &data);
    std::vector<Dirent> ents;
    c().readdir(2, 0, 200, &ents);
  }
  ASSERT_EQ(server().restore(good.data(), good.size()), 0);
  std::string data;
  ASSERT_EQ(c().read(1, 0, 10, &data), 0);
  EXPECT_EQ(data, "more");
  expect_outside_intact();
}

}  // namespace
}  // namespace c2w::p9::test
