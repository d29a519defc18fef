// A virtio-9p device on a MmioTransport over test RAM, driven through real descriptor chains:
// 9P messages are framed here, split into device-readable segments at chosen sizes (direct or
// through an indirect table), and the reply is gathered back from the device-writable segments.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "emulators/p9/posix_fs.h"
#include "emulators/virtio/p9_device.h"
#include "tests/p9/p9_client.h"
#include "tests/support/process.h"
#include "tests/unit/virtio_support.h"

namespace virtiop9 {

using namespace virtiotest;
using c2w::p9::test::Msg;
using c2w::p9::test::Reply;
using c2w::virtio::P9Device;

constexpr uint64_t kAllFeatures =
    c2w::virtio::kFeatureVersion1 | c2w::virtio::kFeatureIndirectDesc | P9Device::kFeatureMountTag;
constexpr uint64_t kBufArea = kRamBase + 0x200000;  // request/reply segments from here to the end
constexpr uint64_t kIndirectTable = kRamBase + 0x180000;

// size[4] type[1] tag[2] body
inline std::vector<uint8_t> frame(uint8_t type, uint16_t tag, const Msg& body) {
  Msg m;
  m.u32(static_cast<uint32_t>(7 + body.b.size())).u8(type).u16(tag);
  m.b.insert(m.b.end(), body.b.begin(), body.b.end());
  return m.b;
}

// Decodes a reply; `ok` is false unless its size field equals its length.
inline Reply parse(const std::vector<uint8_t>& bytes, bool* ok) {
  Reply r;
  *ok = bytes.size() >= 7;
  if (!*ok) return r;
  const uint32_t size = bytes[0] | bytes[1] << 8 | bytes[2] << 16 | uint32_t{bytes[3]} << 24;
  *ok = size == bytes.size();
  r.type = bytes[4];
  r.tag = static_cast<uint16_t>(bytes[5] | bytes[6] << 8);
  r.body.assign(bytes.begin() + 7, bytes.end());
  return r;
}

class P9Harness : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(share() / "dir");
    std::ofstream(share() / "dir" / "hello.txt") << hello_;
    dev_ = P9Device::create("c2w.share0");
    ASSERT_TRUE(dev_);
    t_ = std::make_unique<MmioTransport>(dev_.get(), mem_.ram(), [](bool) {});
    start_driver();
  }

  // A fresh driver on zeroed rings (as after a guest reset).
  void start_driver(uint64_t features = kAllFeatures) {
    std::memset(mem_.at(Driver::ring_base(0)), 0, 0x1000);
    d_ = std::make_unique<Driver>(*t_, mem_);
    ASSERT_EQ(d_->negotiate(features) & 8, 8u);
    d_->setup_queue(0);
    d_->driver_ok();
  }

  std::unique_ptr<c2w::p9::HostFs> share_fs() {
    std::unique_ptr<c2w::p9::PosixFs> fs;
    EXPECT_EQ(c2w::p9::PosixFs::create_share(share().c_str(), &fs), 0);
    return fs;
  }
  void bind(c2w::p9::ServerOptions opts = {}) { ASSERT_EQ(dev_->bind(share_fs(), opts), 0); }

  // Lays out segments of the given sizes at odd addresses with gaps; returns them.
  std::vector<Buf> layout(const std::vector<uint32_t>& sizes, bool writable) {
    std::vector<Buf> bufs;
    for (uint32_t n : sizes) {
      bufs.push_back({next_, n, writable});
      next_ += n + 13;
    }
    return bufs;
  }
  // Splits `total` bytes into pieces of the sizes in `pattern` (cycled), the last one shorter.
  static std::vector<uint32_t> split(uint64_t total, const std::vector<uint32_t>& pattern) {
    std::vector<uint32_t> out;
    for (size_t i = 0; total > 0; ++i) {
      const uint32_t n =
          static_cast<uint32_t>(std::min<uint64_t>(total, pattern[i % pattern.size()]));
      out.push_back(n);
      total -= n;
    }
    return out;
  }

  // Sends req in readable pieces (rsplit pattern) with a reply area of `reply_cap` bytes in
  // writable pieces (wsplit pattern); returns the bytes the device reported as used.
  std::vector<uint8_t> call_raw(const std::vector<uint8_t>& req,
                                const std::vector<uint32_t>& rsplit, uint32_t reply_cap,
                                const std::vector<uint32_t>& wsplit, bool indirect = false) {
    next_ = kBufArea + 1;
    std::vector<Buf> bufs = layout(split(req.size(), rsplit), false);
    size_t at = 0;
    for (const Buf& b : bufs) {
      std::memcpy(mem_.at(b.addr), req.data() + at, b.len);
      at += b.len;
    }
    const std::vector<Buf> out = layout(split(reply_cap, wsplit), true);
    bufs.insert(bufs.end(), out.begin(), out.end());
    if (bufs.empty()) bufs.push_back({next_, 0, false});  // a chain has at least one descriptor
    if (indirect) {
      for (size_t i = 0; i < bufs.size(); ++i) {
        const bool last = i + 1 == bufs.size();
        d_->write_desc_at(
            kIndirectTable + 16 * i, bufs[i].addr, bufs[i].len,
            static_cast<uint16_t>((last ? 0 : kNext) | (bufs[i].device_writes ? kWrite : 0)),
            static_cast<uint16_t>(i + 1));
      }
      d_->write_desc(0, 0, kIndirectTable, static_cast<uint32_t>(16 * bufs.size()), kIndirect, 0);
      d_->publish(0, 0);
    } else {
      EXPECT_LE(bufs.size(), kQueueSize) << "use an indirect table for long chains";
      d_->add(0, bufs);
    }
    if (via_)
      EXPECT_TRUE(via_->write(0x50, 4, 0));
    else
      d_->kick(0);
    if (!d_->has_used(0)) {
      ADD_FAILURE() << "the device did not answer";
      return {};
    }
    const uint32_t len = d_->take_used(0).second;
    std::vector<uint8_t> reply;
    for (const Buf& b : out) {
      if (reply.size() >= len) break;
      const uint32_t n = std::min<uint32_t>(b.len, static_cast<uint32_t>(len - reply.size()));
      reply.insert(reply.end(), mem_.at(b.addr), mem_.at(b.addr) + n);
    }
    EXPECT_EQ(reply.size(), len) << "used length beyond the writable part";
    return reply;
  }

  // One request with a well-formed reply (size field = used length, tag echoed).
  Reply call(uint8_t type, const Msg& body, const std::vector<uint32_t>& rsplit = {4096},
             uint32_t reply_cap = 8192, const std::vector<uint32_t>& wsplit = {8192},
             bool indirect = false) {
    const uint16_t tag = tag_++;
    bool ok = false;
    Reply r = parse(call_raw(frame(type, tag, body), rsplit, reply_cap, wsplit, indirect), &ok);
    EXPECT_TRUE(ok) << "malformed reply to T" << int{type};
    EXPECT_EQ(r.tag, tag);
    return r;
  }
  // The same through another transport over these rings (one restored from a snapshot).
  Reply call_via(MmioTransport& t, uint8_t type, const Msg& body) {
    via_ = &t;
    Reply r = call(type, body);
    via_ = nullptr;
    return r;
  }
  // The errno of an Rlerror reply, or 0 for the expected R-message.
  static int error_of(Reply r, uint8_t type) {
    if (r.type == c2w::p9::kRlerror) return static_cast<int>(r.u32());
    EXPECT_EQ(r.type, type + 1);
    return 0;
  }

  // Tversion + Tattach of fid 0.
  void start_session(uint32_t msize = 65536) {
    Reply v = call(c2w::p9::kTversion, Msg().u32(msize).str("9P2000.L"));
    ASSERT_EQ(v.type, c2w::p9::kTversion + 1);
    EXPECT_EQ(v.u32(), msize);
    EXPECT_EQ(v.str(), "9P2000.L");
    Reply a = call(c2w::p9::kTattach, Msg().u32(0).u32(c2w::p9::kNoFid).str("root").str("").u32(0));
    ASSERT_EQ(error_of(a, c2w::p9::kTattach), 0);
  }

  std::filesystem::path share() const { return tmp_.path() / "share"; }

  c2w::testing::TempDir tmp_{"c2w-virtio-p9"};
  std::string hello_ = "hello from the host share\n";
  TestRam mem_;
  std::unique_ptr<P9Device> dev_;
  std::unique_ptr<MmioTransport> t_;
  std::unique_ptr<Driver> d_;
  uint64_t next_ = kBufArea;
  uint16_t tag_ = 1;
  MmioTransport* via_ = nullptr;  // kick this transport instead of t_
};

}  // namespace virtiop9
