// The read-only virtio block device (emulators/virtio/blk.h) driven through the virtio-mmio
// transport as Linux drives it: reads of every chain layout return the image's bytes; writes,
// out-of-range sectors, overflowing lengths, wrong directions and missing status bytes get
// error statuses and touch nothing; hostile rings and a fuzz loop never read outside the image;
// snapshots continue mid-use; and a chunked image serves as the disk.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "emulators/common/block_source.h"
#include "emulators/common/chunked_image.h"
#include "emulators/common/chunked_image_writer.h"
#include "emulators/virtio/blk.h"
#include "tests/unit/virtio_support.h"

namespace {

using namespace virtiotest;
using c2w::emulators::BlockSource;
using c2w::virtio::Blk;
using c2w::virtio::Virtqueue;

constexpr uint64_t kHdr = kRamBase + 0x200000;   // request headers
constexpr uint64_t kData = kRamBase + 0x240000;  // data buffers (up to 0x1b0000 bytes)
constexpr uint64_t kStatus = kRamBase + 0x3f0000;
constexpr uint64_t kTable = kRamBase + 0x3f8000;  // indirect tables (up to 0x8000 bytes)
constexpr uint64_t kFeatures = c2w::virtio::kFeatureVersion1 | c2w::virtio::kFeatureIndirectDesc |
                               Blk::kFeatureRo | Blk::kFeatureBlkSize | Blk::kFeatureSegMax |
                               Blk::kFeatureFlush;

// The disk: a pattern whose every byte depends on its offset, with a size that is not a
// whole number of blocks. Every read attempt is checked against the size.
class TestDisk : public BlockSource {
 public:
  explicit TestDisk(uint64_t size) : bytes(size) {
    for (uint64_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>(i * 7 + (i >> 9));
  }
  uint64_t size() const override { return bytes.size(); }
  bool read(uint64_t offset, uint8_t* dst, uint64_t len) override {
    ++reads;
    if (!in_range(offset, len)) {
      ++out_of_range;
      return false;
    }
    if (fail) return false;
    std::memcpy(dst, bytes.data() + offset, len);
    return true;
  }
  std::vector<uint8_t> bytes;
  uint64_t reads = 0, out_of_range = 0;
  bool fail = false;
};

void put_header(TestRam& mem, uint64_t pa, uint32_t type, uint64_t sector) {
  mem.put<uint32_t>(pa, type);
  mem.put<uint32_t>(pa + 4, 0);
  mem.put<uint64_t>(pa + 8, sector);
}

class BlkTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kDiskSize = 256 * 1024 + 1000;  // 65 blocks, the last one partial

  BlkTest() : disk(kDiskSize), blk(&disk), t(&blk, mem.ram(), [](bool) {}), d(t, mem) {
    EXPECT_EQ(d.negotiate(kFeatures) & 8, 8u);
    d.setup_queue(0);
    d.driver_ok();
  }

  // One request of `len` bytes read at `sector` in the common layout: header, data, status.
  // Returns the status; *used gets the used length.
  uint8_t request(uint32_t type, uint64_t sector, uint32_t len, uint32_t* used = nullptr,
                  bool data_writable = true) {
    put_header(mem, kHdr, type, sector);
    mem.put<uint8_t>(kStatus, 0xee);
    std::vector<Buf> bufs = {{kHdr, 16, false}};
    if (len) bufs.push_back({kData, len, data_writable});
    bufs.push_back({kStatus, 1, true});
    d.add(0, bufs);
    d.kick(0);
    return finish(used);
  }
  uint8_t finish(uint32_t* used = nullptr) {
    EXPECT_TRUE(d.has_used(0));
    if (!d.has_used(0)) return 0xff;
    const auto [head, n] = d.take_used(0);
    if (used) *used = n;
    return mem.get<uint8_t>(kStatus);
  }
  bool data_is(uint64_t pa, uint64_t disk_offset, uint64_t len) {
    for (uint64_t i = 0; i < len; ++i) {
      const uint8_t want = disk_offset + i < disk.size() ? disk.bytes[disk_offset + i] : 0;
      if (mem.get<uint8_t>(pa + i) != want) {
        ADD_FAILURE() << "byte " << i << " (disk offset " << disk_offset + i << ")";
        return false;
      }
    }
    return true;
  }
  void fill(uint64_t pa, uint64_t len, uint8_t v) { std::memset(mem.at(pa), v, len); }
  bool needs_reset() { return d.reg(0x70) & 0x40; }
  // The driver resets the device and sets it up again on fresh rings.
  void restart() {
    fill(Driver::ring_base(0), 0x1000, 0);
    d.forget_rings();
    d.negotiate(kFeatures);
    d.setup_queue(0);
    d.driver_ok();
  }

  TestRam mem;
  TestDisk disk;
  Blk blk;
  MmioTransport t;
  Driver d;
};

TEST_F(BlkTest, IdentityFeaturesAndConfigSpace) {
  EXPECT_EQ(d.reg(0x008), 2u) << "device id";
  d.set(0x14, 0);
  const uint32_t f = d.reg(0x10);
  EXPECT_EQ(f & (1u << 5), 1u << 5) << "RO";
  EXPECT_EQ(f & (1u << 6), 1u << 6) << "BLK_SIZE";
  EXPECT_EQ(f & (1u << 2), 1u << 2) << "SEG_MAX";
  EXPECT_EQ(f & (1u << 9), 1u << 9) << "FLUSH";
  uint64_t v = 0;
  ASSERT_TRUE(t.read(0x100, 8, &v));
  EXPECT_EQ(v, 65u * 8) << "capacity in sectors: the size rounded up to whole 4 KiB blocks";
  ASSERT_TRUE(t.read(0x104, 4, &v));
  EXPECT_EQ(v, 0u);
  ASSERT_TRUE(t.read(0x10c, 4, &v));
  EXPECT_EQ(v, Blk::kSegMax);
  ASSERT_TRUE(t.read(0x114, 4, &v));
  EXPECT_EQ(v, 4096u) << "blk_size";
  ASSERT_TRUE(t.read(0x118, 4, &v));
  EXPECT_EQ(v, 0u) << "topology and later fields read as zero";
  ASSERT_TRUE(t.read(0x100 + 92, 4, &v));
  EXPECT_FALSE(t.read(0x100 + 96, 1, &v)) << "nothing past struct virtio_blk_config";
  d.set(0x30, 0);
  EXPECT_EQ(d.reg(0x34), Blk::kQueueSize);
  d.set(0x30, 1);
  EXPECT_EQ(d.reg(0x34), 0u) << "one request queue";
}

TEST_F(BlkTest, ReadsReturnTheImage) {
  uint32_t used = 0;
  EXPECT_EQ(request(Blk::kIn, 0, 4096, &used), Blk::kOk);
  EXPECT_EQ(used, 4097u);
  EXPECT_TRUE(data_is(kData, 0, 4096));
  EXPECT_EQ(request(Blk::kIn, 17, 512 * 9, &used), Blk::kOk) << "unaligned to blocks";
  EXPECT_EQ(used, 512u * 9 + 1);
  EXPECT_TRUE(data_is(kData, 17 * 512, 512 * 9));
  EXPECT_EQ(request(Blk::kIn, 0, 0, &used), Blk::kOk) << "an empty read";
  EXPECT_EQ(used, 1u);
  // The last block: its bytes past the image's end read as zeros.
  fill(kData, 4096, 0xaa);
  EXPECT_EQ(request(Blk::kIn, 64 * 8, 4096), Blk::kOk);
  EXPECT_TRUE(data_is(kData, 64 * 4096, 4096));
  EXPECT_EQ(mem.get<uint8_t>(kData + 4095), 0);
  // The whole disk in one request.
  EXPECT_EQ(request(Blk::kIn, 0, 65 * 4096, &used), Blk::kOk);
  EXPECT_EQ(used, 65u * 4096 + 1);
  EXPECT_TRUE(data_is(kData, 0, 65 * 4096));
  EXPECT_EQ(disk.out_of_range, 0u);
}

TEST_F(BlkTest, ReadsAcrossAnyChainLayout) {
  // Header split 5 + 3 + 8, data in three pieces of odd sizes, the status sharing the last
  // data descriptor.
  put_header(mem, kHdr, Blk::kIn, 8);
  std::memcpy(mem.at(kHdr + 0x100), mem.at(kHdr), 5);
  std::memcpy(mem.at(kHdr + 0x200), mem.at(kHdr) + 5, 3);
  std::memcpy(mem.at(kHdr + 0x300), mem.at(kHdr) + 8, 8);
  fill(kData, 0x10000, 0);
  d.add(0, {{kHdr + 0x100, 5, false},
            {kHdr + 0x200, 3, false},
            {kHdr + 0x300, 8, false},
            {kData, 1000, true},
            {kData + 0x1000, 24, true},
            {kData + 0x2000, 3072 + 1, true}});
  d.kick(0);
  ASSERT_TRUE(d.has_used(0));
  EXPECT_EQ(d.take_used(0).second, 4097u);
  EXPECT_EQ(mem.get<uint8_t>(kData + 0x2000 + 3072), Blk::kOk);
  EXPECT_TRUE(data_is(kData, 8 * 512, 1000));
  EXPECT_TRUE(data_is(kData + 0x1000, 8 * 512 + 1000, 24));
  EXPECT_TRUE(data_is(kData + 0x2000, 8 * 512 + 1024, 3072));

  // The same through an indirect table, with zero-length descriptors in between.
  mem.put<uint8_t>(kStatus, 0xee);
  put_header(mem, kHdr, Blk::kIn, 100);
  d.write_desc_at(kTable, kHdr, 16, kNext, 1);
  d.write_desc_at(kTable + 16, kData, 0, kNext | kWrite, 2);
  d.write_desc_at(kTable + 32, kData + 0x4000, 2048, kNext | kWrite, 3);
  d.write_desc_at(kTable + 48, kData + 0x8000, 2048, kNext | kWrite, 4);
  d.write_desc_at(kTable + 64, kStatus, 1, kWrite, 0);
  d.write_desc(0, 10, kTable, 5 * 16, kIndirect, 0);
  d.publish(0, 10);
  d.kick(0);
  EXPECT_EQ(finish(), Blk::kOk);
  EXPECT_TRUE(data_is(kData + 0x4000, 100 * 512, 2048));
  EXPECT_TRUE(data_is(kData + 0x8000, 100 * 512 + 2048, 2048));
}

TEST_F(BlkTest, WritesAreRefusedAndTouchNothing) {
  fill(kData, 4096, 0x5a);
  uint32_t used = 0;
  EXPECT_EQ(request(Blk::kOut, 0, 4096, &used, /*data_writable=*/false), Blk::kIoErr);
  EXPECT_EQ(used, 1u);
  EXPECT_EQ(disk.reads, 0u) << "a write reads nothing from the disk";
  for (uint64_t i = 0; i < 4096; ++i) ASSERT_EQ(mem.get<uint8_t>(kData + i), 0x5a);
  // A write whose data the driver marked device-writable: still refused, still untouched.
  EXPECT_EQ(request(Blk::kOut, 0, 4096, &used), Blk::kIoErr);
  EXPECT_EQ(used, 1u);
  for (uint64_t i = 0; i < 4096; ++i) ASSERT_EQ(mem.get<uint8_t>(kData + i), 0x5a);
  const std::vector<uint8_t> before = TestDisk(kDiskSize).bytes;
  EXPECT_TRUE(disk.bytes == before);
}

TEST_F(BlkTest, OutOfRangeAndOverflowingRequestsAreIoErr) {
  const uint64_t cap = blk.capacity_sectors();
  fill(kData, 8192, 0x33);
  struct Case {
    uint64_t sector;
    uint32_t len;
    uint8_t want;
  };
  const Case cases[] = {
      {cap - 1, 512, Blk::kOk},
      {cap - 8, 4096, Blk::kOk},
      {cap, 0, Blk::kOk},  // an empty read at the end
      {cap, 512, Blk::kIoErr},
      {cap - 1, 1024, Blk::kIoErr},
      {cap + 1, 0, Blk::kIoErr},
      {~uint64_t{0}, 512, Blk::kIoErr},
      {~uint64_t{0} / 512 + 1, 512, Blk::kIoErr},  // sector * 512 overflows
      {uint64_t{1} << 55, 4096, Blk::kIoErr},
      {0, 100, Blk::kIoErr},  // not a whole number of sectors
      {0, 513, Blk::kIoErr},
  };
  for (const Case& c : cases) {
    uint32_t used = 0;
    EXPECT_EQ(request(Blk::kIn, c.sector, c.len, &used), c.want) << c.sector << " " << c.len;
    if (c.want != Blk::kOk) {
      EXPECT_EQ(used, 1u);
      for (uint64_t i = 0; i < c.len; ++i) ASSERT_EQ(mem.get<uint8_t>(kData + i), 0x33) << i;
    } else {
      fill(kData, 8192, 0x33);
    }
  }
  EXPECT_EQ(disk.out_of_range, 0u);
}

TEST_F(BlkTest, RequestsLongerThanTheLimitAreIoErr) {
  // 17 descriptors over the same 4 MiB of RAM: 68 MiB of data, more than kMaxRequest, on a
  // disk large enough for it.
  TestDisk big(80u << 20);
  Blk dev(&big);
  MmioTransport tb(&dev, mem.ram(), [](bool) {});
  Driver db(tb, mem);
  db.negotiate(kFeatures);
  db.setup_queue(0);
  db.driver_ok();
  put_header(mem, kHdr, Blk::kIn, 0);
  db.write_desc_at(kTable, kHdr, 16, kNext, 1);
  for (uint16_t i = 1; i <= 17; ++i)
    db.write_desc_at(kTable + 16 * i, kRamBase, 4 << 20, kNext | kWrite,
                     static_cast<uint16_t>(i + 1));
  db.write_desc_at(kTable + 16 * 18, kStatus, 1, kWrite, 0);
  db.write_desc(0, 0, kTable, 19 * 16, kIndirect, 0);
  db.publish(0, 0);
  db.kick(0);
  ASSERT_TRUE(db.has_used(0));
  EXPECT_EQ(db.take_used(0).second, 1u);
  EXPECT_EQ(mem.get<uint8_t>(kStatus), Blk::kIoErr);
  EXPECT_EQ(big.reads, 0u);
}

TEST_F(BlkTest, WrongDirectionsAndShortHeadersAreIoErr) {
  // Read data in a device-readable buffer.
  EXPECT_EQ(request(Blk::kIn, 0, 512, nullptr, /*data_writable=*/false), Blk::kIoErr);
  // A header shorter than 16 bytes.
  put_header(mem, kHdr, Blk::kIn, 0);
  mem.put<uint8_t>(kStatus, 0xee);
  d.add(0, {{kHdr, 12, false}, {kData, 512, true}, {kStatus, 1, true}});
  d.kick(0);
  EXPECT_EQ(finish(), Blk::kIoErr);
  // No readable part at all.
  mem.put<uint8_t>(kStatus, 0xee);
  d.add(0, {{kData, 512, true}, {kStatus, 1, true}});
  d.kick(0);
  EXPECT_EQ(finish(), Blk::kIoErr);
  EXPECT_EQ(disk.reads, 0u);
}

TEST_F(BlkTest, StatusMustBeDeviceWritable) {
  // A chain with no device-writable byte (the status descriptor lacks WRITE): nowhere to
  // answer, so it comes back with used length 0 and the device stays usable.
  mem.put<uint8_t>(kStatus, 0xee);
  put_header(mem, kHdr, Blk::kFlush, 0);
  d.add(0, {{kHdr, 16, false}, {kStatus, 1, false}});
  d.kick(0);
  ASSERT_TRUE(d.has_used(0));
  EXPECT_EQ(d.take_used(0).second, 0u);
  EXPECT_EQ(mem.get<uint8_t>(kStatus), 0xee);
  EXPECT_FALSE(needs_reset());
  EXPECT_EQ(request(Blk::kIn, 0, 512), Blk::kOk);
  // A readable status after writable data breaks the ring's rules: the queue is broken and the
  // driver is told to reset; a reset brings the device back.
  put_header(mem, kHdr, Blk::kIn, 0);
  d.add(0, {{kHdr, 16, false}, {kData, 512, true}, {kStatus, 1, false}});
  d.kick(0);
  EXPECT_TRUE(needs_reset());
  restart();
  EXPECT_FALSE(needs_reset());
  EXPECT_EQ(request(Blk::kIn, 3, 512), Blk::kOk);
  EXPECT_TRUE(data_is(kData, 3 * 512, 512));
}

TEST_F(BlkTest, GetIdFlushAndUnknownTypes) {
  uint32_t used = 0;
  fill(kData, 64, 0xff);
  EXPECT_EQ(request(Blk::kGetId, 0, 20, &used), Blk::kOk);
  EXPECT_EQ(used, 21u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(mem.at(kData))), "c2w-disk");
  for (uint64_t i = 8; i < 20; ++i) EXPECT_EQ(mem.get<uint8_t>(kData + i), 0) << "NUL-padded";
  EXPECT_EQ(mem.get<uint8_t>(kData + 20), 0xff) << "nothing past 20 bytes";
  fill(kData, 64, 0xff);
  EXPECT_EQ(request(Blk::kGetId, 0, 5, &used), Blk::kOk);
  EXPECT_EQ(used, 6u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(mem.at(kData)), 5), "c2w-d");
  EXPECT_EQ(mem.get<uint8_t>(kData + 5), 0xff);
  EXPECT_EQ(request(Blk::kFlush, 0, 0, &used), Blk::kOk);
  EXPECT_EQ(used, 1u);
  for (uint32_t type : {2u, 3u, 5u, 10u, 11u, 13u, 14u, 16u, 0x80000000u, 0xffffffffu}) {
    EXPECT_EQ(request(type, 0, 512, &used), Blk::kUnsupp) << type;
    EXPECT_EQ(used, 1u);
  }
  Blk named(&disk, "a-very-long-disk-identifier-string");
  EXPECT_EQ(named.id(), "a-very-long-disk-ide") << "cut to 20 bytes";
}

TEST_F(BlkTest, TooLongChainsBreakTheQueue) {
  // An indirect table of more than Virtqueue::kMaxChain descriptors, all chained.
  const uint32_t n = Virtqueue::kMaxChain + 1;
  const uint64_t table = kRamBase + 0x10000;
  ASSERT_LE(uint64_t{n} * 16, 0x100000 - 0x10000) << "stays below the rings";
  d.write_desc_at(table, kHdr, 16, kNext, 1);
  for (uint32_t i = 1; i < n; ++i)
    d.write_desc_at(table + 16 * uint64_t{i}, kData, 512, kNext | kWrite,
                    static_cast<uint16_t>(i + 1));
  d.write_desc(0, 0, table, n * 16, kIndirect, 0);
  put_header(mem, kHdr, Blk::kIn, 0);
  d.publish(0, 0);
  d.kick(0);
  EXPECT_TRUE(needs_reset());
  EXPECT_EQ(disk.reads, 0u);
}

TEST_F(BlkTest, SourceFailuresAreIoErrAndCounted) {
  disk.fail = true;
  uint32_t used = 0;
  EXPECT_EQ(request(Blk::kIn, 0, 1024, &used), Blk::kIoErr);
  EXPECT_EQ(used, 1025u) << "an upper bound of what was written";
  EXPECT_EQ(blk.source_errors(), 1u);
  disk.fail = false;
  EXPECT_EQ(request(Blk::kIn, 0, 1024), Blk::kOk);
  EXPECT_EQ(blk.source_errors(), 1u);
  EXPECT_EQ(request(Blk::kIn, ~uint64_t{0}, 512), Blk::kIoErr);
  EXPECT_EQ(blk.source_errors(), 1u) << "guest errors are not source errors";
}

TEST_F(BlkTest, FuzzedRingsNeverReadOutsideTheImage) {
  std::mt19937_64 rng(0xb1c0ffee);
  const uint64_t cap = blk.capacity_sectors();
  int answered = 0, unanswered = 0, resets = 0;
  auto random_addr = [&]() -> uint64_t {
    switch (rng() % 8) {
      case 0:
        return rng();  // anywhere
      case 1:
        return kRamBase + kRamSize - rng() % 64;  // across the end of RAM
      case 2:
        return kHdr;
      default:
        return kData + rng() % 0x1a0000;
    }
  };
  auto random_len = [&]() -> uint32_t {
    switch (rng() % 6) {
      case 0:
        return static_cast<uint32_t>(rng());
      case 1:
        return 16;
      case 2:
        return 1;
      default:
        return static_cast<uint32_t>(512 * (rng() % 9) + (rng() % 4 == 0 ? rng() % 512 : 0));
    }
  };
  for (int iter = 0; iter < 4000; ++iter) {
    // A header of a random type at a random (often valid, often edge) sector.
    static const uint32_t kTypes[] = {Blk::kIn,    Blk::kIn,    Blk::kIn, Blk::kOut,
                                      Blk::kFlush, Blk::kGetId, 11,       0xffffffff};
    const uint64_t sectors[] = {rng() % cap, cap - rng() % 9, rng(), cap + rng() % 3};
    put_header(mem, kHdr, kTypes[rng() % 8], sectors[rng() % 4]);
    // Random descriptors over the whole table, some indirect.
    for (uint16_t i = 0; i < kQueueSize; ++i) {
      uint16_t flags = static_cast<uint16_t>(rng() % 4);  // NEXT, WRITE
      if (rng() % 16 == 0) flags |= kIndirect;
      d.write_desc(0, i, random_addr(), random_len(), flags,
                   static_cast<uint16_t>(rng() % (kQueueSize + 2)));
    }
    for (uint16_t i = 0; i < 32; ++i)
      d.write_desc_at(kTable + 16 * uint64_t{i}, random_addr(), random_len(),
                      static_cast<uint16_t>(rng() % 4), static_cast<uint16_t>(rng() % 40));
    if (rng() % 4 == 0) d.write_desc(0, 0, kTable, 16 * (1 + rng() % 40), kIndirect, 0);
    // Mostly chains shaped like Linux's (header, data, status) with a field or two gone wrong,
    // so that the fuzzing reaches the request checks and the disk, not only the ring checks.
    const int published = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < published; ++p) {
      uint16_t head = static_cast<uint16_t>(rng() % (kQueueSize + 1));
      if (rng() % 4 != 0) {
        head = static_cast<uint16_t>(rng() % (kQueueSize - 8));
        const unsigned data_descs = static_cast<unsigned>(rng() % 4);
        const uint16_t last = static_cast<uint16_t>(head + data_descs + 1);
        d.write_desc(0, head, kHdr, rng() % 8 ? 16 : random_len(), kNext,
                     static_cast<uint16_t>(head + 1));
        for (uint16_t k = 1; k <= data_descs; ++k)
          d.write_desc(0, static_cast<uint16_t>(head + k), kData + 0x10000 * k,
                       rng() % 4 ? 512 * static_cast<uint32_t>(rng() % 9) : random_len(),
                       static_cast<uint16_t>(kNext | (rng() % 8 ? kWrite : 0)),
                       static_cast<uint16_t>(head + k + 1));
        d.write_desc(0, last, kStatus, rng() % 8 ? 1 : random_len(),
                     static_cast<uint16_t>(rng() % 8 ? kWrite : 0), 0);
        if (rng() % 3 == 0)  // one more field anywhere in the chain gone wrong
          mem.put<uint8_t>(Driver::desc(0) + 16 * (head + rng() % (data_descs + 2)) + rng() % 16,
                           static_cast<uint8_t>(rng()));
      }
      d.publish(0, head);
    }
    if (rng() % 50 == 0) mem.put<uint16_t>(Driver::avail(0) + 2, static_cast<uint16_t>(rng()));
    d.kick(0);
    while (d.has_used(0)) {
      const auto [head, len] = d.take_used(0);
      (void)head;
      (len > 0 ? answered : unanswered)++;
    }
    if (needs_reset() || rng() % 200 == 0) {
      ++resets;
      restart();
    }
    ASSERT_EQ(disk.out_of_range, 0u) << "iteration " << iter;
  }
  EXPECT_GT(answered, 100);
  EXPECT_GT(unanswered, 10);
  EXPECT_GT(resets, 100);
  EXPECT_GT(disk.reads, 100u) << "the fuzz loop reached the disk";
  // And the device still serves a well-formed request.
  EXPECT_EQ(request(Blk::kIn, 5, 2048), Blk::kOk);
  EXPECT_TRUE(data_is(kData, 5 * 512, 2048));
}

TEST_F(BlkTest, SnapshotRestoresMidUse) {
  EXPECT_EQ(request(Blk::kIn, 0, 512), Blk::kOk);
  // A request published but not yet kicked when the machine is saved.
  put_header(mem, kHdr, Blk::kIn, 40);
  mem.put<uint8_t>(kStatus, 0xee);
  d.add(0, {{kHdr, 16, false}, {kData, 4096, true}, {kStatus, 1, true}});
  c2w::emulators::ByteWriter w;
  t.save(w);

  // Another process: the same disk attached again, the device rebuilt, RAM as it was.
  TestDisk same(kDiskSize);
  Blk restored(&same);
  MmioTransport t2(&restored, mem.ram(), [](bool) {});
  c2w::emulators::ByteReader r(w.data().data(), w.data().size());
  ASSERT_TRUE(t2.load(r));
  EXPECT_TRUE(t2.driver_ok());
  ASSERT_TRUE(t2.write(0x50, 4, 0));  // the driver's kick
  EXPECT_TRUE(d.has_used(0));
  EXPECT_EQ(d.take_used(0).second, 4097u);
  EXPECT_EQ(mem.get<uint8_t>(kStatus), Blk::kOk);
  EXPECT_TRUE(data_is(kData, 40 * 512, 4096));

  // A disk of another size, or another id, does not take the snapshot.
  TestDisk other(kDiskSize + 4096);
  Blk wrong_size(&other);
  MmioTransport t3(&wrong_size, mem.ram(), [](bool) {});
  c2w::emulators::ByteReader r3(w.data().data(), w.data().size());
  EXPECT_FALSE(t3.load(r3));
  Blk wrong_id(&same, "other");
  MmioTransport t4(&wrong_id, mem.ram(), [](bool) {});
  c2w::emulators::ByteReader r4(w.data().data(), w.data().size());
  EXPECT_FALSE(t4.load(r4));
  // A truncated state is refused too.
  for (size_t n = 0; n < w.data().size(); n += 7) {
    MmioTransport tn(&restored, mem.ram(), [](bool) {});
    c2w::emulators::ByteReader rn(w.data().data(), n);
    EXPECT_FALSE(tn.load(rn)) << n;
  }
}

TEST_F(BlkTest, ChunkedImageAsTheDisk) {
  // The device over a chunked image of the test pattern: the bytes come back decoded, and a
  // corrupt chunk is an IOERR that the image explains.
  c2w::emulators::MemorySource raw(disk.bytes.data(), disk.bytes.size());
  c2w::emulators::ChunkedImageOptions o;
  o.chunk_size = 64 << 10;
  o.level = 3;
  std::vector<uint8_t> file;
  std::string err;
  ASSERT_TRUE(c2w::emulators::build_chunked_image(raw, o, &file, &err)) << err;
  auto img = c2w::emulators::ChunkedImage::open(
      std::make_unique<c2w::emulators::MemorySource>(file.data(), file.size()), &err);
  ASSERT_NE(img, nullptr) << err;
  Blk dev(img.get());
  EXPECT_EQ(dev.capacity_sectors(), blk.capacity_sectors());
  MmioTransport tc(&dev, mem.ram(), [](bool) {});
  Driver dc(tc, mem);
  dc.negotiate(kFeatures);
  dc.setup_queue(0);
  dc.driver_ok();
  auto read = [&](uint64_t sector, uint32_t len) {
    put_header(mem, kHdr, Blk::kIn, sector);
    dc.add(0, {{kHdr, 16, false}, {kData, len, true}, {kStatus, 1, true}});
    dc.kick(0);
    EXPECT_TRUE(dc.has_used(0));
    dc.take_used(0);
    return mem.get<uint8_t>(kStatus);
  };
  EXPECT_EQ(read(0, 65 * 4096), Blk::kOk);
  EXPECT_TRUE(data_is(kData, 0, 65 * 4096));
  EXPECT_EQ(read(127, 4096), Blk::kOk) << "across a chunk boundary";
  EXPECT_TRUE(data_is(kData, 127 * 512, 4096));
  // Corrupt chunk 2's frame in the file the image reads (chunk 2 was read whole, so it is not
  // in the image's cache).
  uint64_t off = 0;
  std::memcpy(&off, file.data() + 64 + 2 * 24, 8);
  file[off + 10] ^= 0xff;
  EXPECT_EQ(read(257, 512), Blk::kIoErr);
  EXPECT_EQ(dev.source_errors(), 1u);
  EXPECT_NE(img->error().find("chunk 2 "), std::string::npos) << img->error();
  EXPECT_EQ(read(0, 4096), Blk::kOk) << "other chunks still read";
}

}  // namespace
