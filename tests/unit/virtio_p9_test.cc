// The virtio-9p device through the virtio-mmio transport and real descriptor chains: config
// space and features, a 9P session whose messages are split at odd boundaries (direct and
// indirect descriptors), reply buffers that are too small, oversized requests, the unbound
// state, bind(), driver reset, and snapshots (bound, unbound with a kept session, mismatches).
#include <iterator>
#include <string>

#include "tests/unit/virtio_p9_support.h"

namespace {

using namespace virtiop9;
namespace p9 = c2w::p9;

std::string read_host(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class P9DeviceTest : public P9Harness {
 protected:
  // Walks fid 0 -> fid 1 at dir/hello.txt and opens it read-only.
  void open_hello() {
    Reply w = call(p9::kTwalk, Msg().u32(0).u32(1).u16(2).str("dir").str("hello.txt"));
    ASSERT_EQ(error_of(w, p9::kTwalk), 0);
    EXPECT_EQ(w.u16(), 2) << "two qids";
    ASSERT_EQ(error_of(call(p9::kTlopen, Msg().u32(1).u32(p9::kO_RDONLY)), p9::kTlopen), 0);
  }
  // Tread of fid 1; the data, or "<errno N>".
  std::string read_fid1(uint32_t count = 4096) {
    Reply r = call(p9::kTread, Msg().u32(1).u64(0).u32(count));
    if (int e = error_of(r, p9::kTread)) return "<errno " + std::to_string(e) + ">";
    const uint32_t n = r.u32();
    EXPECT_EQ(n, r.body.size() - 4);
    return std::string(r.body.begin() + 4, r.body.end());
  }
  std::vector<uint8_t> save_transport(const MmioTransport& t) {
    c2w::emulators::ByteWriter w;
    t.save(w);
    return w.data();
  }
};

TEST_F(P9DeviceTest, IdentityFeaturesAndMountTag) {
  EXPECT_EQ(d_->reg(0x008), 9u) << "device id";
  d_->set(0x14, 0);
  EXPECT_EQ(d_->reg(0x10) & 1, 1u) << "VIRTIO_9P_MOUNT_TAG offered";
  uint64_t v = 0;
  ASSERT_TRUE(t_->read(0x100, 2, &v));
  EXPECT_EQ(v, 10u) << "le16 tag_len";
  std::string tag;
  for (uint64_t off = 0; off < 10; ++off) {
    ASSERT_TRUE(t_->read(0x102 + off, 1, &v));
    tag.push_back(static_cast<char>(v));
  }
  EXPECT_EQ(tag, "c2w.share0");
  EXPECT_FALSE(t_->read(0x102 + 10, 1, &v)) << "no NUL after the tag";
  EXPECT_EQ(dev_->num_queues(), 1u);
}

TEST_F(P9DeviceTest, TagsAreChecked) {
  EXPECT_FALSE(P9Device::create(""));
  EXPECT_FALSE(P9Device::create(std::string("a\0b", 3)));
  EXPECT_FALSE(P9Device::create(std::string(256, 't')));
  EXPECT_TRUE(P9Device::create(std::string(255, 't')));
}

TEST_F(P9DeviceTest, SessionThroughOddlySplitChains) {
  bind();
  // Direct chains (at most the ring's 16 descriptors): requests and replies in odd pieces.
  const uint16_t tag = tag_++;
  bool ok = false;
  Reply v = parse(call_raw(frame(p9::kTversion, tag, Msg().u32(8192).str("9P2000.L")), {1, 2, 3},
                           30, {13, 1, 9}),
                  &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(v.type, p9::kTversion + 1);
  EXPECT_EQ(v.tag, tag);
  EXPECT_EQ(v.u32(), 8192u);
  EXPECT_EQ(v.str(), "9P2000.L");
  Reply a = call(p9::kTattach, Msg().u32(0).u32(p9::kNoFid).str("root").str("").u32(0), {3, 5}, 60,
                 {2, 19});
  ASSERT_EQ(error_of(a, p9::kTattach), 0);
  EXPECT_EQ(a.u8(), p9::kQTDIR);
  Reply w = call(p9::kTwalk, Msg().u32(0).u32(1).u16(2).str("dir").str("hello.txt"), {7, 1}, 128,
                 {3, 60});
  ASSERT_EQ(error_of(w, p9::kTwalk), 0);
  EXPECT_EQ(w.u16(), 2);
  ASSERT_EQ(
      error_of(call(p9::kTlopen, Msg().u32(1).u32(p9::kO_RDONLY), {2}, 64, {11, 13}), p9::kTlopen),
      0);
  Reply r = call(p9::kTread, Msg().u32(1).u64(0).u32(4096), {5, 9}, 4096, {6, 1, 2000, 3});
  ASSERT_EQ(error_of(r, p9::kTread), 0);
  EXPECT_EQ(r.u32(), hello_.size());
  EXPECT_EQ(std::string(r.body.begin() + 4, r.body.end()), hello_);
  // The same read, request and reply in 1-, 4- and 2-byte pieces, through an indirect table.
  r = call(p9::kTread, Msg().u32(1).u64(0).u32(4096), {1, 4, 2}, 4096, {1, 4, 2}, true);
  ASSERT_EQ(error_of(r, p9::kTread), 0);
  EXPECT_EQ(std::string(r.body.begin() + 4, r.body.end()), hello_);
  // A walk that tries to leave the share stays at the root (".." is lexical, clamped there).
  Reply up = call(p9::kTwalk, Msg().u32(0).u32(2).u16(2).str("..").str(".."));
  EXPECT_EQ(error_of(up, p9::kTwalk), 0);
}

TEST_F(P9DeviceTest, IndirectTablesCarryLongChains) {
  bind();
  start_session();
  // A 3000-byte file read back through ~430 seven-byte writable descriptors (more than the
  // 16-entry ring could hold), and a write whose request is split in 100 pieces.
  std::string big;
  for (int i = 0; big.size() < 3000; ++i) big += std::to_string(i) + ",";
  big.resize(3000);
  ASSERT_EQ(error_of(call(p9::kTwalk, Msg().u32(0).u32(1).u16(1).str("dir")), p9::kTwalk), 0);
  Reply c = call(p9::kTlcreate, Msg().u32(1).str("big").u32(p9::kO_RDWR).u32(0644).u32(0), {1}, 64,
                 {1}, /*indirect=*/true);
  ASSERT_EQ(error_of(c, p9::kTlcreate), 0);
  Msg wr;
  wr.u32(1).u64(0).u32(static_cast<uint32_t>(big.size()));
  wr.b.insert(wr.b.end(), big.begin(), big.end());
  Reply wrr = call(p9::kTwrite, wr, {31}, 64, {64}, true);
  ASSERT_EQ(error_of(wrr, p9::kTwrite), 0);
  EXPECT_EQ(wrr.u32(), big.size());
  EXPECT_EQ(read_host(share() / "dir" / "big"), big);
  Reply r = call(p9::kTread, Msg().u32(1).u64(0).u32(8000), {3}, 3100, {7}, true);
  ASSERT_EQ(error_of(r, p9::kTread), 0);
  EXPECT_EQ(r.u32(), big.size());
  EXPECT_EQ(std::string(r.body.begin() + 4, r.body.end()), big);
}

TEST_F(P9DeviceTest, ReplyBuffersTooSmall) {
  bind();
  start_session();
  open_hello();
  // Rgetattr (160 bytes) cannot fit 40: the server answers Rlerror(EMSGSIZE) instead.
  Reply g = call(p9::kTgetattr, Msg().u32(1).u64(0x3fff), {64}, 40, {40});
  EXPECT_EQ(error_of(g, p9::kTgetattr), p9::kEMSGSIZE);
  // Rread shrinks its count to the space there is.
  Reply r = call(p9::kTread, Msg().u32(1).u64(0).u32(4096), {64}, 20, {3, 4});
  ASSERT_EQ(error_of(r, p9::kTread), 0);
  EXPECT_EQ(r.u32(), 9u);
  EXPECT_EQ(std::string(r.body.begin() + 4, r.body.end()), hello_.substr(0, 9));
  // No room even for an Rlerror: the chain comes back with used length 0 ...
  EXPECT_TRUE(call_raw(frame(p9::kTread, 77, Msg().u32(1).u64(0).u32(10)), {64}, 10, {10}).empty());
  EXPECT_TRUE(call_raw(frame(p9::kTread, 78, Msg().u32(1).u64(0).u32(10)), {64}, 0, {1}).empty());
  // ... and the device carries on.
  EXPECT_EQ(d_->reg(0x70) & 0x40, 0u) << "no DEVICE_NEEDS_RESET";
  EXPECT_EQ(read_fid1(), hello_);
}

TEST_F(P9DeviceTest, OversizedAndTruncatedRequests) {
  p9::ServerOptions opts;
  opts.max_msize = 8192;
  bind(opts);
  start_session(8192);
  open_hello();
  // A Twrite whose readable part exceeds max msize: Rlerror(EMSGSIZE) with its tag, nothing
  // written.
  std::vector<uint8_t> big = frame(p9::kTwrite, 0x4242, Msg().u32(1).u64(0).u32(9000));
  big.resize(9000 + 23, 'x');
  bool ok = false;
  Reply r = parse(call_raw(big, {4096}, 64, {64}), &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(r.tag, 0x4242);
  EXPECT_EQ(error_of(r, p9::kTwrite), p9::kEMSGSIZE);
  EXPECT_EQ(read_host(share() / "dir" / "hello.txt"), hello_);
  // Fewer bytes than a header: EINVAL, tag NOTAG.
  r = parse(call_raw({9, 0, 0}, {3}, 64, {64}), &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(r.tag, p9::kNoTag);
  EXPECT_EQ(error_of(r, 0), p9::kEINVAL);
  // No readable part at all.
  r = parse(call_raw({}, {1}, 64, {64}), &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(error_of(r, 0), p9::kEINVAL);
  // A size field larger than the bytes sent.
  std::vector<uint8_t> lying = frame(p9::kTread, 9, Msg().u32(1).u64(0).u32(10));
  lying[0] = 200;
  r = parse(call_raw(lying, {64}, 64, {64}), &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(error_of(r, p9::kTread), p9::kEINVAL);
  EXPECT_EQ(read_fid1(), hello_);
}

TEST_F(P9DeviceTest, UnboundDeviceAnswersEnodevUntilBound) {
  EXPECT_FALSE(dev_->bound());
  Reply v = call(p9::kTversion, Msg().u32(8192).str("9P2000.L"));
  EXPECT_EQ(error_of(v, p9::kTversion), p9::kENODEV);
  Reply a = call(p9::kTattach, Msg().u32(0).u32(p9::kNoFid).str("root").str("").u32(0));
  EXPECT_EQ(error_of(a, p9::kTattach), p9::kENODEV);
  EXPECT_EQ(dev_->bind(nullptr, {}), p9::kEINVAL);
  bind();
  EXPECT_TRUE(dev_->bound());
  EXPECT_EQ(dev_->bind(share_fs(), {}), p9::kEBUSY);
  start_session();
  open_hello();
  EXPECT_EQ(read_fid1(), hello_);
}

TEST_F(P9DeviceTest, ReadOnlyShare) {
  p9::ServerOptions opts;
  opts.read_only = true;
  bind(opts);
  start_session();
  Reply m = call(p9::kTmkdir, Msg().u32(0).str("new").u32(0755).u32(0));
  EXPECT_EQ(error_of(m, p9::kTmkdir), p9::kEROFS);
  EXPECT_FALSE(std::filesystem::exists(share() / "new"));
}

TEST_F(P9DeviceTest, DriverResetEndsTheSession) {
  bind();
  start_session();
  open_hello();
  start_driver();  // status 0, then a new negotiation
  EXPECT_EQ(read_fid1(), "<errno 9>") << "EBADF: fid 1 is gone";
  start_session();
  open_hello();
  EXPECT_EQ(read_fid1(), hello_);
}

TEST_F(P9DeviceTest, SnapshotOfABoundDeviceContinuesInANewOne) {
  bind();
  start_session();
  open_hello();
  const std::vector<uint8_t> snap = save_transport(*t_);

  auto dev2 = P9Device::create("c2w.share0");
  ASSERT_EQ(dev2->bind(share_fs(), {}), 0);
  MmioTransport t2(dev2.get(), mem_.ram(), [](bool) {});
  c2w::emulators::ByteReader r(snap.data(), snap.size());
  ASSERT_TRUE(t2.load(r));
  std::ofstream(share() / "dir" / "hello.txt") << "changed";
  // The old driver's rings continue on the new transport; the restored fid reopens its file.
  Reply rd = call_via(t2, p9::kTread, Msg().u32(1).u64(0).u32(100));
  ASSERT_EQ(error_of(rd, p9::kTread), 0);
  EXPECT_EQ(std::string(rd.body.begin() + 4, rd.body.end()), "changed");

  // Another tag is another device: the load fails.
  auto other = P9Device::create("c2w.share1");
  MmioTransport t3(other.get(), mem_.ram(), [](bool) {});
  c2w::emulators::ByteReader r3(snap.data(), snap.size());
  EXPECT_FALSE(t3.load(r3));
  // Truncated snapshots fail too.
  for (size_t cut : {snap.size() - 1, snap.size() - 20, size_t{40}}) {
    auto d = P9Device::create("c2w.share0");
    MmioTransport t4(d.get(), mem_.ram(), [](bool) {});
    c2w::emulators::ByteReader r4(snap.data(), cut);
    EXPECT_FALSE(t4.load(r4) && r4.ok()) << cut;
  }
}

TEST_F(P9DeviceTest, SessionLoadedIntoAnUnboundDeviceWaitsForBind) {
  bind();
  start_session(16384);
  open_hello();
  const std::vector<uint8_t> snap = save_transport(*t_);

  auto dev2 = P9Device::create("c2w.share0");
  MmioTransport t2(dev2.get(), mem_.ram(), [](bool) {});
  c2w::emulators::ByteReader r(snap.data(), snap.size());
  ASSERT_TRUE(t2.load(r));
  EXPECT_FALSE(dev2->bound());
  EXPECT_TRUE(dev2->has_pending_session());
  EXPECT_EQ(error_of(call_via(t2, p9::kTread, Msg().u32(1).u64(0).u32(100)), p9::kTread),
            p9::kENODEV);
  // Saved again while unbound, the kept session survives another round.
  const std::vector<uint8_t> snap2 = save_transport(t2);
  auto dev3 = P9Device::create("c2w.share0");
  MmioTransport t3(dev3.get(), mem_.ram(), [](bool) {});
  c2w::emulators::ByteReader r3(snap2.data(), snap2.size());
  ASSERT_TRUE(t3.load(r3));
  EXPECT_TRUE(dev3->has_pending_session());
  // Options that cannot hold the session (msize 16384 > max 8192): bind fails, nothing lost.
  p9::ServerOptions small;
  small.max_msize = 8192;
  EXPECT_EQ(dev3->bind(share_fs(), small), p9::kEINVAL);
  EXPECT_FALSE(dev3->bound());
  EXPECT_TRUE(dev3->has_pending_session());
  ASSERT_EQ(dev3->bind(share_fs(), {}), 0);
  EXPECT_FALSE(dev3->has_pending_session());
  Reply rd = call_via(t3, p9::kTread, Msg().u32(1).u64(0).u32(100));
  ASSERT_EQ(error_of(rd, p9::kTread), 0);
  EXPECT_EQ(std::string(rd.body.begin() + 4, rd.body.end()), hello_);
}

TEST_F(P9DeviceTest, SnapshotWithoutSessionGivesABoundDeviceAFreshOne) {
  const std::vector<uint8_t> unbound_snap = save_transport(*t_);  // booted, nothing bound yet
  auto dev2 = P9Device::create("c2w.share0");
  ASSERT_EQ(dev2->bind(share_fs(), {}), 0);
  MmioTransport t2(dev2.get(), mem_.ram(), [](bool) {});
  c2w::emulators::ByteReader r(unbound_snap.data(), unbound_snap.size());
  ASSERT_TRUE(t2.load(r));
  EXPECT_FALSE(dev2->has_pending_session());
  EXPECT_EQ(error_of(call_via(t2, p9::kTread, Msg().u32(1).u64(0).u32(100)), p9::kTread),
            p9::kEBADF);
  // A reset forgets a kept session as well.
  start_driver();  // t_ has not seen what t2 took from the rings
  bind();
  start_session();
  const std::vector<uint8_t> snap = save_transport(*t_);
  auto dev3 = P9Device::create("c2w.share0");
  MmioTransport t3(dev3.get(), mem_.ram(), [](bool) {});
  c2w::emulators::ByteReader r3(snap.data(), snap.size());
  ASSERT_TRUE(t3.load(r3));
  ASSERT_TRUE(dev3->has_pending_session());
  EXPECT_TRUE(t3.write(0x70, 4, 0));
  EXPECT_FALSE(dev3->has_pending_session());
}

}  // namespace
