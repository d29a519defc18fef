// A hostile driver against a bound virtio-9p device: thousands of rounds of random descriptor
// tables and indirect tables (loops, huge lengths, addresses outside RAM), valid chains whose
// buffers alias each other and the rings, random ring placements and sizes, and well-formed chains
// carrying random or mutated 9P messages with random reply layouts. The process must neither crash
// nor hang (the loop is bounded by a round count and a wall-clock budget; nothing asserts on time);
// well-formed chains must always get a well-formed reply that fits their writable part; nothing
// outside the share changes; and after a reset the device serves a normal session again.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "tests/unit/virtio_p9_support.h"

namespace {

using namespace virtiop9;
namespace p9 = c2w::p9;
namespace fs = std::filesystem;

class P9FuzzTest : public P9Harness {
 protected:
  uint64_t r(uint64_t n) { return n ? rng_() % n : 0; }

  // A request: random bytes, or one of the messages a client sends, then mutated.
  std::vector<uint8_t> message() {
    const uint16_t tag = static_cast<uint16_t>(r(0x10000));
    const uint32_t fid = static_cast<uint32_t>(r(4)), newfid = static_cast<uint32_t>(r(6));
    const char* names[] = {"dir", "hello.txt", "..", "x", "new", "."};
    const std::string name = names[r(6)];
    std::vector<uint8_t> m;
    switch (r(14)) {
      case 0:
        m.resize(r(300));
        for (auto& b : m) b = static_cast<uint8_t>(rng_());
        return m;
      case 1:
        m = frame(p9::kTversion, tag, Msg().u32(static_cast<uint32_t>(r(1 << 20))).str("9P2000.L"));
        break;
      case 2:
        m = frame(p9::kTattach, tag, Msg().u32(fid).u32(p9::kNoFid).str("root").str("").u32(0));
        break;
      case 3:
        m = frame(p9::kTwalk, tag, Msg().u32(fid).u32(newfid).u16(2).str(name).str(names[r(6)]));
        break;
      case 4:
        m = frame(p9::kTlopen, tag, Msg().u32(fid).u32(static_cast<uint32_t>(r(3))));
        break;
      case 5:
        m = frame(p9::kTread, tag,
                  Msg().u32(fid).u64(r(100)).u32(static_cast<uint32_t>(r(1 << 20))));
        break;
      case 6: {
        Msg w;
        const uint32_t n = static_cast<uint32_t>(r(2000));
        w.u32(fid).u64(r(4096)).u32(n);
        w.b.resize(w.b.size() + n, 'w');
        m = frame(p9::kTwrite, tag, w);
        break;
      }
      case 7:
        m = frame(p9::kTlcreate, tag, Msg().u32(fid).str(name).u32(p9::kO_RDWR).u32(0644).u32(0));
        break;
      case 8:
        m = frame(p9::kTmkdir, tag, Msg().u32(fid).str(name).u32(0755).u32(0));
        break;
      case 9:
        m = frame(p9::kTgetattr, tag, Msg().u32(fid).u64(0x3fff));
        break;
      case 10:
        m = frame(p9::kTreaddir, tag,
                  Msg().u32(fid).u64(r(4)).u32(static_cast<uint32_t>(r(1 << 17))));
        break;
      case 11:
        m = frame(p9::kTclunk, tag, Msg().u32(fid));
        break;
      case 12:
        m = frame(p9::kTsymlink, tag, Msg().u32(fid).str(name).str("../../outside").u32(0));
        break;
      default:
        m = frame(static_cast<uint8_t>(r(256)), tag, Msg().u32(fid).u64(rng_()));
        break;
    }
    for (uint64_t flips = r(3); flips-- > 0 && !m.empty();) m[r(m.size())] ^= 1u << r(8);
    if (r(10) == 0) m.resize(r(m.size() + 1));  // cut short
    return m;
  }

  // A piece-size pattern that makes at most ~max_pieces segments of `total` bytes.
  std::vector<uint32_t> pattern(uint64_t total, uint64_t max_pieces) {
    const uint32_t min = static_cast<uint32_t>(total / max_pieces + 1);
    std::vector<uint32_t> p;
    for (uint64_t i = 0, n = 1 + r(3); i < n; ++i)
      p.push_back(min + static_cast<uint32_t>(r(r(2) ? 8 : 700)));
    return p;
  }

  // A well-formed chain with hostile content: it must get a well-formed reply.
  void well_formed_chain() {
    const std::vector<uint8_t> req = message();
    static constexpr uint32_t kCaps[] = {0, 7, 10, 11, 20, 200, 4096, 70000};
    const uint32_t cap = r(2) ? kCaps[r(8)] : static_cast<uint32_t>(r(9000));
    const std::vector<uint32_t> rs = pattern(req.size(), 600), ws = pattern(cap, 900);
    const bool indirect = split(req.size(), rs).size() + split(cap, ws).size() > kQueueSize;
    const std::vector<uint8_t> reply = call_raw(req, rs, cap, ws, indirect);
    if (cap < 11) {
      EXPECT_TRUE(reply.empty()) << "no room for any reply, yet " << reply.size() << " bytes";
      return;
    }
    bool ok = false;
    const Reply rep = parse(reply, &ok);
    ASSERT_TRUE(ok) << "malformed reply of " << reply.size() << " bytes";
    successes_ += rep.type != p9::kRlerror;
    EXPECT_EQ(rep.tag, req.size() >= 7 ? req[5] | req[6] << 8 : p9::kNoTag);
  }

  uint64_t random_addr() {
    switch (r(7)) {
      case 0:
        return kBufArea + r(0x2000);
      case 1:
        return rng_();
      case 2:
        return kRamBase + kRamSize - r(64);
      case 3:
        return kIndirectTable + 16 * r(8);
      case 4:
        return r(2) ? 0 : ~uint64_t{0} - r(32);
      case 5:
        return Driver::ring_base(0) + r(0x300);
      default:
        return kRamBase + r(kRamSize);
    }
  }
  uint32_t random_len() {
    switch (r(5)) {
      case 0:
        return static_cast<uint32_t>(r(64));
      case 1:
        return static_cast<uint32_t>(r(0x20000));
      case 2:
        return 0xffffffffu - static_cast<uint32_t>(r(4));
      case 3:
        return static_cast<uint32_t>(16 * r(300));
      default:
        return static_cast<uint32_t>(rng_());
    }
  }
  void random_desc(uint64_t at) {
    uint16_t flags = static_cast<uint16_t>(r(8));
    if (r(20) == 0) flags = static_cast<uint16_t>(rng_());
    d_->write_desc_at(at, random_addr(), random_len(), flags, static_cast<uint16_t>(r(20)));
  }

  // Random descriptor and indirect tables, a 9P message where buffers tend to point, and
  // random heads (some beyond the ring) or a jump of the available index.
  void hostile_tables() {
    for (uint16_t i = 0; i < kQueueSize; ++i) random_desc(Driver::desc(0) + 16 * i);
    for (uint64_t i = 0; i < 32; ++i) random_desc(kIndirectTable + 16 * i);
    const std::vector<uint8_t> m = message();
    if (!m.empty()) std::memcpy(mem_.at(kBufArea), m.data(), m.size());
    for (uint64_t n = 1 + r(4); n-- > 0;) d_->publish(0, static_cast<uint16_t>(r(18)));
    if (r(8) == 0) mem_.put<uint16_t>(Driver::avail(0) + 2, static_cast<uint16_t>(rng_()));
    d_->kick(0);
    answered_ += d_->has_used(0);
  }

  // Chains that pass every check but alias each other and the rings: request and reply in the
  // same bytes, replies written over the descriptor table, the available ring or an indirect
  // table the device reads next.
  void aliasing_chains() {
    const std::vector<uint8_t> m = message();
    if (!m.empty()) std::memcpy(mem_.at(kBufArea), m.data(), m.size());
    const uint64_t targets[] = {
        kBufArea,        kBufArea + r(64), Driver::desc(0) + r(0x100), Driver::avail(0) + r(0x40),
        Driver::used(0), kIndirectTable};
    uint16_t at = 0;
    for (uint64_t chains = 1 + r(3); chains-- > 0 && at < kQueueSize - 6;) {
      const uint16_t head = at;
      const uint64_t n = 1 + r(6), readable = r(n + 1);
      for (uint64_t i = 0; i < n; ++i, ++at) {
        const uint16_t flags =
            static_cast<uint16_t>((i + 1 < n ? kNext : 0) | (i >= readable ? kWrite : 0));
        d_->write_desc(0, at, targets[r(6)], static_cast<uint32_t>(1 + r(400)), flags,
                       static_cast<uint16_t>(at + 1));
      }
      d_->publish(0, head);
    }
    d_->kick(0);
    answered_ += d_->has_used(0);
  }

  // A queue placed and sized at random (possibly outside RAM, overlapping, odd sizes).
  void hostile_ring() {
    d_->negotiate(kAllFeatures);
    d_->set(0x30, 0);
    d_->set(0x38, static_cast<uint32_t>(r(300)));
    for (uint64_t reg : {0x80, 0x90, 0xa0}) {
      const uint64_t a = random_addr();
      d_->set(reg, static_cast<uint32_t>(a));
      d_->set(reg + 4, static_cast<uint32_t>(a >> 32));
    }
    d_->set(0x44, 1);
    d_->driver_ok();
    for (uint16_t i = 0; i < kQueueSize; ++i) random_desc(Driver::desc(0) + 16 * i);
    for (int k = 0; k < 3; ++k) d_->kick(0);
  }

  std::mt19937_64 rng_;
  int successes_ = 0;  // well-formed chains answered with something other than Rlerror
  int answered_ = 0;   // hostile tables of which at least one chain came back
  int broken_ = 0;     // hostile rounds that ended in DEVICE_NEEDS_RESET
};

TEST_F(P9FuzzTest, HostileDriverNeverCrashesOrHangs) {
  fs::create_directories(tmp_.path() / "outside");
  std::ofstream(tmp_.path() / "outside" / "secret") << "top secret";
  bind();
  start_session();
  const char* env_seed = std::getenv("C2W_FUZZ_SEED");  // to explore; the default is fixed
  const uint64_t seed = env_seed ? std::strtoull(env_seed, nullptr, 0) : 0xc2f9;
  rng_.seed(seed);
  constexpr int kMaxRounds = 60000;
  const auto budget = std::chrono::seconds(20);
  const auto start = std::chrono::steady_clock::now();
  int rounds = 0, resets = 0, replies = 0;
  for (; rounds < kMaxRounds && std::chrono::steady_clock::now() - start < budget; ++rounds) {
    const uint64_t kind = r(20);
    if (kind < 12) {
      well_formed_chain();
      ++replies;
      if (::testing::Test::HasFailure()) break;
      continue;
    }
    if (kind < 15)
      hostile_tables();
    else if (kind < 18)
      aliasing_chains();
    else
      hostile_ring();
    broken_ += (d_->reg(0x70) & 0x40) != 0;
    // Whatever happened (DEVICE_NEEDS_RESET or not), the guest driver starts over, and half
    // the time it has a session so mutated messages reach real fids.
    ++resets;
    start_driver();
    if (r(2)) start_session();
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "seed %#llx: %d rounds in %.2f s: %d well-formed chains (%d not Rlerror), %d hostile "
      "rounds (%d with a chain answered, %d DEVICE_NEEDS_RESET)\n",
      static_cast<unsigned long long>(seed), rounds, secs, replies, successes_, resets, answered_,
      broken_);

  // Nothing outside the share was touched or created.
  std::ifstream secret(tmp_.path() / "outside" / "secret");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(secret), {}), "top secret");
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(tmp_.path())) top.push_back(e.path().filename());
  std::sort(top.begin(), top.end());
  EXPECT_EQ(top, (std::vector<std::string>{"outside", "share"}));
  // And the device still works.
  start_driver();
  start_session();
  Reply w = call(p9::kTwalk, Msg().u32(0).u32(1).u16(0));
  EXPECT_EQ(error_of(w, p9::kTwalk), 0);
}

}  // namespace
