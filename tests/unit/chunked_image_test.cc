// Chunked disk images (emulators/common/chunked_image.h): the writer and the reader round trip
// random and sparse images of any size; corrupt headers, indexes, chunks and truncated files
// are refused cleanly; the cache stays within its bound; a fuzz loop of mutated images never
// reads outside the file and never returns wrong bytes; our XXH64 is libxxhash's.
#include "emulators/common/chunked_image.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "emulators/common/block_source.h"
#include "emulators/common/byte_io.h"
#include "emulators/common/chunked_image_writer.h"
#include "emulators/common/xxh64.h"

namespace {

using c2w::emulators::BlockSource;
using c2w::emulators::build_chunked_image;
using c2w::emulators::ChunkedImage;
using c2w::emulators::ChunkedImageFormat;
using c2w::emulators::ChunkedImageOptions;
using c2w::emulators::ChunkedImageStats;
using c2w::emulators::FileSource;
using c2w::emulators::MemorySource;
using c2w::emulators::xxh64;

// Read attempts a WatchedSource saw (kept by the test: the source dies with a refused image).
struct Watch {
  uint64_t reads = 0, out_of_range = 0;
};

// A memory source that records every read attempt, so tests can prove the reader never asks
// for bytes outside the file.
class WatchedSource : public BlockSource {
 public:
  WatchedSource(std::vector<uint8_t> bytes, Watch* watch)
      : bytes_(std::move(bytes)), watch_(watch) {}
  uint64_t size() const override { return bytes_.size(); }
  bool read(uint64_t offset, uint8_t* dst, uint64_t len) override {
    ++watch_->reads;
    if (!in_range(offset, len)) {
      ++watch_->out_of_range;
      return false;
    }
    if (len) std::memcpy(dst, bytes_.data() + offset, len);
    return true;
  }

 private:
  std::vector<uint8_t> bytes_;
  Watch* watch_;
};

std::vector<uint8_t> make_image(const std::vector<uint8_t>& raw, ChunkedImageOptions o = {},
                                ChunkedImageStats* stats = nullptr) {
  MemorySource src(raw.data(), raw.size());
  std::vector<uint8_t> out;
  std::string err;
  EXPECT_TRUE(build_chunked_image(src, o, &out, &err, stats)) << err;
  return out;
}

std::unique_ptr<ChunkedImage> open_image(std::vector<uint8_t> bytes, std::string* err,
                                         unsigned cache = ChunkedImage::kDefaultCacheChunks,
                                         Watch* watch = nullptr) {
  static Watch unwatched;
  return ChunkedImage::open(
      std::make_unique<WatchedSource>(std::move(bytes), watch ? watch : &unwatched), err, cache);
}

// Compressible bytes that never contain a whole zero chunk: words from a small vocabulary.
std::vector<uint8_t> text_data(uint64_t n, uint32_t seed) {
  static const char* const kWords[] = {"disk ",   "chunk ", "zstd ",   "virtio ",
                                       "sector ", "guest ", "image\n", "read "};
  std::mt19937 rng(seed);
  std::vector<uint8_t> v;
  v.reserve(n + 16);
  while (v.size() < n) {
    const char* w = kWords[rng() % 8];
    v.insert(v.end(), w, w + std::strlen(w));
    if (rng() % 16 == 0) v.push_back(static_cast<uint8_t>(rng() | 1));
  }
  v.resize(n);
  return v;
}

// Random bytes with compressible stretches (text-like runs) and incompressible ones.
std::vector<uint8_t> mixed_data(uint64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (uint64_t i = 0; i < n;) {
    const uint64_t run = std::min<uint64_t>(n - i, 1 + rng() % 20000);
    const int mode = static_cast<int>(rng() % 3);
    for (uint64_t j = 0; j < run; ++j, ++i)
      v[i] = mode == 0 ? static_cast<uint8_t>(rng()) : mode == 1 ? "abcab"[j % 5] : 0;
  }
  return v;
}

void expect_reads_match(ChunkedImage& img, const std::vector<uint8_t>& raw, uint32_t seed) {
  ASSERT_EQ(img.size(), raw.size());
  std::vector<uint8_t> all(raw.size());
  ASSERT_TRUE(img.read(0, all.data(), all.size())) << img.error();
  EXPECT_TRUE(all == raw);
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> buf;
  for (int i = 0; i < 300 && !raw.empty(); ++i) {
    const uint64_t off = rng() % raw.size();
    const uint64_t len = rng() % std::min<uint64_t>(raw.size() - off + 1, 3 * img.chunk_size());
    buf.assign(len, 0xcd);
    ASSERT_TRUE(img.read(off, buf.data(), len)) << off << "+" << len << ": " << img.error();
    ASSERT_EQ(0, std::memcmp(buf.data(), raw.data() + off, len)) << off << "+" << len;
  }
}

// Rewrites the header's and index's checksums after a test edited fields, so the edit is seen
// by the field checks rather than by the checksums.
void reseal(std::vector<uint8_t>& f) {
  uint64_t count = 0;
  std::memcpy(&count, f.data() + 24, 8);
  const uint64_t index_len = std::min<uint64_t>(count * 24, f.size() - 64);
  const uint64_t isum = xxh64(f.data() + 64, index_len);
  std::memcpy(f.data() + 48, &isum, 8);
  const uint64_t hsum = xxh64(f.data(), 56);
  std::memcpy(f.data() + 56, &hsum, 8);
}

template <typename T>
void put(std::vector<uint8_t>& f, uint64_t at, T v) {
  std::memcpy(f.data() + at, &v, sizeof v);
}
template <typename T>
T get(const std::vector<uint8_t>& f, uint64_t at) {
  T v;
  std::memcpy(&v, f.data() + at, sizeof v);
  return v;
}
constexpr uint64_t entry(uint64_t i) {
  return 64 + 24 * i;
}

TEST(Xxh64, MatchesLibxxhash) {
  std::mt19937 rng(7);
  std::vector<uint8_t> b(70000);
  for (auto& c : b) c = static_cast<uint8_t>(rng());
  for (uint64_t n = 0; n <= 257; ++n)
    for (uint64_t seed : {uint64_t{0}, uint64_t{1}, ~uint64_t{0}})
      for (uint64_t shift : {0, 1, 3})  // unaligned starts too
        ASSERT_EQ(xxh64(b.data() + shift, n, seed), XXH64(b.data() + shift, n, seed))
            << n << " " << seed << " " << shift;
  EXPECT_EQ(xxh64(b.data(), b.size()), XXH64(b.data(), b.size(), 0));
  EXPECT_EQ(xxh64("", 0), 0xEF46DB3751D8E999ull) << "the published XXH64 of the empty input";
}

TEST(ChunkedImage, RoundTripOfRandomDataOfOddSizes) {
  for (const uint32_t cs : {4096u, 65536u}) {
    for (const uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{cs - 1}, uint64_t{cs},
                             uint64_t{cs + 1}, uint64_t{3 * cs + cs / 2 + 123}}) {
      const std::vector<uint8_t> raw = mixed_data(n, static_cast<uint32_t>(n));
      ChunkedImageOptions o;
      o.chunk_size = cs;
      o.level = 3;
      ChunkedImageStats st;
      std::string err;
      auto img = open_image(make_image(raw, o, &st), &err);
      ASSERT_NE(img, nullptr) << err;
      EXPECT_EQ(img->chunk_size(), cs);
      EXPECT_EQ(img->chunk_count(), n / cs + (n % cs != 0));
      EXPECT_EQ(st.chunks, img->chunk_count());
      expect_reads_match(*img, raw, cs);
      // Past the end: refused, never partially served.
      uint8_t b[2] = {};
      EXPECT_TRUE(img->read(n, b, 0));
      EXPECT_FALSE(img->read(n, b, 1));
      EXPECT_FALSE(img->read(n + 1, b, 0));
      EXPECT_FALSE(img->read(~uint64_t{0}, b, 2)) << "offset + length overflows";
      EXPECT_FALSE(img->read(1, b, ~uint64_t{0}));
      EXPECT_NE(img->error(), "");
    }
  }
}

TEST(ChunkedImage, IncompressibleChunksAreStoredRaw) {
  std::vector<uint8_t> raw(4 * 4096);
  std::mt19937 rng(3);
  for (auto& c : raw) c = static_cast<uint8_t>(rng());
  std::memset(raw.data() + 4096, 'x', 4096);
  ChunkedImageOptions o;
  o.chunk_size = 4096;
  ChunkedImageStats st;
  const std::vector<uint8_t> file = make_image(raw, o, &st);
  EXPECT_EQ(st.raw_chunks, 3u);
  EXPECT_EQ(st.zstd_chunks, 1u);
  EXPECT_EQ(get<uint8_t>(file, entry(0) + 12), ChunkedImageFormat::kRaw);
  EXPECT_EQ(get<uint8_t>(file, entry(1) + 12), ChunkedImageFormat::kZstd);
  std::string err;
  auto img = open_image(file, &err);
  ASSERT_NE(img, nullptr) << err;
  expect_reads_match(*img, raw, 1);
}

TEST(ChunkedImage, SparseImageStoresOnlyItsData) {
  std::vector<uint8_t> raw(64 << 20);  // 64 MiB, nearly all zero
  const std::vector<uint8_t> data = mixed_data(100000, 9);
  std::memcpy(raw.data() + (5 << 20) + 17, data.data(), data.size());
  std::memcpy(raw.data() + raw.size() - 300, data.data(), 300);
  ChunkedImageStats st;
  const std::vector<uint8_t> file = make_image(raw, {}, &st);
  EXPECT_EQ(st.chunks, 256u);
  EXPECT_EQ(st.zero_chunks, 256u - 2u);
  EXPECT_LT(file.size(), 64u + 256 * 24 + 100000) << "zero chunks store nothing";
  std::string err;
  auto img = open_image(file, &err);
  ASSERT_NE(img, nullptr) << err;
  expect_reads_match(*img, raw, 2);
}

TEST(ChunkedImage, WriterIsDeterministicAndFileMatchesMemory) {
  const std::vector<uint8_t> raw = mixed_data(300000, 5);
  EXPECT_TRUE(make_image(raw) == make_image(raw));
  char path[] = "/tmp/c2w-chunked-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 10 << 20), 0) << "stale longer content is cut off";
  MemorySource src(raw.data(), raw.size());
  std::string err;
  ASSERT_TRUE(c2w::emulators::write_chunked_image(src, fd, {}, &err)) << err;
  close(fd);
  auto file = FileSource::open(path, &err);
  ASSERT_NE(file, nullptr) << err;
  const std::vector<uint8_t> mem = make_image(raw);
  ASSERT_EQ(file->size(), mem.size());
  std::vector<uint8_t> on_disk(mem.size());
  ASSERT_TRUE(file->read(0, on_disk.data(), on_disk.size()));
  EXPECT_TRUE(on_disk == mem);
  auto img = ChunkedImage::open(std::move(file), &err);
  ASSERT_NE(img, nullptr) << err;
  expect_reads_match(*img, raw, 3);
  unlink(path);
}

TEST(ChunkedImage, WriterRefusesBadOptions) {
  const std::vector<uint8_t> raw(100);
  MemorySource src(raw.data(), raw.size());
  std::vector<uint8_t> out;
  std::string err;
  for (uint32_t cs : {0u, 1000u, 2048u, 3 * 4096u, 32u << 20}) {
    ChunkedImageOptions o;
    o.chunk_size = cs;
    EXPECT_FALSE(build_chunked_image(src, o, &out, &err)) << cs;
  }
  ChunkedImageOptions o;
  o.level = 0;
  EXPECT_FALSE(build_chunked_image(src, o, &out, &err));
  o.level = 99;
  EXPECT_FALSE(build_chunked_image(src, o, &out, &err));
}

class CorruptImage : public ::testing::Test {
 protected:
  CorruptImage() {
    raw = text_data(5 * 4096 + 700, 11);
    std::memset(raw.data() + 2 * 4096, 0, 4096);  // chunk 2 is a zero chunk, the others zstd
    ChunkedImageOptions o;
    o.chunk_size = 4096;
    o.level = 3;
    good = make_image(raw, o);
  }
  // Opens `f` and expects a refusal whose message contains `why`.
  void refused(const std::vector<uint8_t>& f, const std::string& why) {
    std::string err;
    Watch w;
    EXPECT_EQ(open_image(f, &err, 8, &w), nullptr) << why;
    EXPECT_NE(err.find(why), std::string::npos) << err;
    EXPECT_EQ(w.out_of_range, 0u);
  }
  uint64_t kind(uint64_t i) { return get<uint8_t>(good, entry(i) + 12); }

  std::vector<uint8_t> raw, good;
};

TEST_F(CorruptImage, HeaderFieldsAreChecked) {
  std::string err;
  ASSERT_NE(open_image(good, &err), nullptr) << err;
  for (size_t i = 0; i < 64; ++i) {  // any flipped header byte
    std::vector<uint8_t> f = good;
    f[i] ^= 0x20;
    EXPECT_EQ(open_image(f, &err), nullptr) << "byte " << i;
  }
  std::vector<uint8_t> f = good;
  f[0] = 'X';
  refused(f, "magic");
  auto edit = [&](uint64_t at, auto v, const std::string& why) {
    std::vector<uint8_t> e = good;
    put(e, at, v);
    reseal(e);
    refused(e, why);
  };
  edit(8, uint32_t{2}, "version 2");
  edit(12, uint32_t{4096 + 512}, "power of two");
  edit(12, uint32_t{2048}, "power of two");
  edit(12, uint32_t{32u << 20}, "power of two");
  edit(12, uint32_t{8192}, "chunk count");
  edit(16, uint64_t{raw.size() + 4096}, "chunk count");
  edit(16, ~uint64_t{0}, "chunk count");
  edit(24, uint64_t{7}, "chunk count");
  {
    // A huge image whose chunk count matches: refused before anything is allocated.
    std::vector<uint8_t> e = good;
    put(e, 16, uint64_t{1} << 40);
    put(e, 24, (uint64_t{1} << 40) / 4096);
    put(e, 40, 64 + 24 * ((uint64_t{1} << 40) / 4096));
    reseal(e);
    refused(e, "more than");
    put(e, 16, uint64_t{1} << 36);
    put(e, 24, (uint64_t{1} << 36) / 4096);
    put(e, 40, 64 + 24 * ((uint64_t{1} << 36) / 4096));
    reseal(e);
    refused(e, "truncated");
  }
  edit(32, uint64_t{72}, "offset");
  edit(40, get<uint64_t>(good, 40) + 1, "offset");
  refused(std::vector<uint8_t>(good.begin(), good.begin() + 63), "header");
  refused({}, "header");
}

TEST_F(CorruptImage, IndexEntriesAreChecked) {
  for (uint64_t i = 0; i < 6; ++i)
    ASSERT_EQ(kind(i), i == 2 ? ChunkedImageFormat::kZero : ChunkedImageFormat::kZstd) << i;
  {
    std::vector<uint8_t> f = good;
    f[entry(1) + 3] ^= 1;  // without resealing: the index checksum catches it
    refused(f, "index checksum");
  }
  auto edit = [&](uint64_t at, auto v, const std::string& why) {
    std::vector<uint8_t> e = good;
    put(e, at, v);
    reseal(e);
    refused(e, why);
  };
  const uint64_t data_offset = get<uint64_t>(good, 40);
  edit(entry(0), uint64_t{data_offset - 1}, "order");            // into the index
  edit(entry(0), uint64_t{0}, "order");                          // into the header
  edit(entry(1), get<uint64_t>(good, entry(0)), "overlapping");  // on chunk 0's frame
  edit(entry(5), uint64_t{good.size()}, "past the file");        // after the end
  edit(entry(5), ~uint64_t{0} - 8, "past the file");             // offset + length overflows
  edit(entry(0) + 8, uint32_t{0xffffffff}, "not shorter");       // longer than a chunk
  edit(entry(0) + 12, uint8_t{7}, "unknown kind");
  edit(entry(0) + 13, uint8_t{1}, "reserved");
  edit(entry(0) + 15, uint8_t{1}, "reserved");
  edit(entry(2), uint64_t{data_offset}, "zero chunk");
  edit(entry(2) + 8, uint32_t{1}, "zero chunk");
  edit(entry(2) + 16, uint64_t{1}, "zero chunk");
  edit(entry(0) + 12, uint8_t{ChunkedImageFormat::kRaw}, "wrong length");
  edit(entry(0) + 8, uint32_t{0}, "not shorter");
}

TEST_F(CorruptImage, CorruptChunkFailsOnlyItsReads) {
  std::vector<uint8_t> f = good;
  const uint64_t off = get<uint64_t>(good, entry(3));
  const uint32_t len = get<uint32_t>(good, entry(3) + 8);
  ASSERT_EQ(kind(3), ChunkedImageFormat::kZstd);
  f[off + len / 2] ^= 0x55;  // the index is intact: open succeeds
  std::string err;
  auto img = open_image(f, &err);
  ASSERT_NE(img, nullptr) << err;
  std::vector<uint8_t> buf(raw.size());
  EXPECT_FALSE(img->read(3 * 4096 + 10, buf.data(), 100));
  EXPECT_NE(img->error().find("chunk 3 "), std::string::npos) << img->error();
  EXPECT_FALSE(img->read(3 * 4096, buf.data(), 4096)) << "a whole-chunk read checks it too";
  EXPECT_FALSE(img->read(3 * 4096 + 10, buf.data(), 100)) << "a failure is not cached";
  EXPECT_FALSE(img->read(0, buf.data(), 4 * 4096 - 1)) << "a read across it fails";
  ASSERT_TRUE(img->read(4 * 4096, buf.data(), 4096)) << img->error();
  EXPECT_EQ(0, std::memcmp(buf.data(), raw.data() + 4 * 4096, 4096));

  // A checksum that does not match the (intact) frame.
  f = good;
  put(f, entry(1) + 16, get<uint64_t>(good, entry(1) + 16) ^ 1);
  reseal(f);
  img = open_image(f, &err);
  ASSERT_NE(img, nullptr) << err;
  EXPECT_FALSE(img->read(4096, buf.data(), 4096));
  EXPECT_NE(img->error().find("checksum mismatch"), std::string::npos) << img->error();

  // A raw chunk with a flipped byte.
  std::vector<uint8_t> noise(3 * 4096);
  std::mt19937 rng(1);
  for (auto& c : noise) c = static_cast<uint8_t>(rng());
  ChunkedImageOptions o;
  o.chunk_size = 4096;
  f = make_image(noise, o);
  ASSERT_EQ(get<uint8_t>(f, entry(1) + 12), ChunkedImageFormat::kRaw);
  f[get<uint64_t>(f, entry(1)) + 5] ^= 1;
  img = open_image(f, &err);
  ASSERT_NE(img, nullptr) << err;
  EXPECT_FALSE(img->read(4096 + 1, buf.data(), 1));
  EXPECT_NE(img->error().find("checksum mismatch"), std::string::npos) << img->error();
  EXPECT_TRUE(img->read(0, buf.data(), 4096));
}

TEST_F(CorruptImage, TruncatedFilesAreRefused) {
  // Every prefix of the file lacks some stored byte (the last chunk is stored, not zero).
  ASSERT_NE(kind(5), ChunkedImageFormat::kZero);
  for (size_t n = 0; n < good.size(); n += (n < 400 ? 1 : 37)) {
    std::string err;
    Watch w;
    EXPECT_EQ(open_image(std::vector<uint8_t>(good.begin(), good.begin() + n), &err, 8, &w),
              nullptr)
        << n;
    EXPECT_EQ(w.out_of_range, 0u) << n;
  }
  std::string err;
  EXPECT_EQ(open_image(std::vector<uint8_t>(good.begin(), good.end() - 1), &err), nullptr);
  EXPECT_NE(err.find("past the file"), std::string::npos) << err;
}

TEST_F(CorruptImage, FuzzedImagesNeverReadOutsideOrReturnWrongBytes) {
  std::mt19937_64 rng(20240607);
  std::vector<uint8_t> buf(3 * 4096);
  int opened = 0, failed_reads = 0, good_reads = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> f = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const uint64_t at = rng() % 3 == 0 ? rng() % (get<uint64_t>(good, 40)) : rng() % f.size();
      f[at] = static_cast<uint8_t>(rng() % 2 ? rng() : f[at] ^ (1u << (rng() % 8)));
    }
    if (rng() % 2) reseal(f);  // half the time let the edits reach the field checks
    std::string err;
    Watch w;
    auto img = open_image(f, &err, 1 + static_cast<unsigned>(rng() % 3), &w);
    if (img) {
      ++opened;
      for (int r = 0; r < 8; ++r) {
        const uint64_t size = img->size();
        const uint64_t off = rng() % (size + 2);
        const uint64_t len = rng() % (buf.size() + 1);
        if (img->read(off, buf.data(), len)) {
          ASSERT_LE(off + len, raw.size());
          ASSERT_EQ(0, std::memcmp(buf.data(), raw.data() + off, len))
              << "iteration " << iter << ": a successful read returned other bytes";
          ++good_reads;
        } else {
          ++failed_reads;
        }
      }
    }
    ASSERT_EQ(w.out_of_range, 0u) << "iteration " << iter;
  }
  EXPECT_GT(opened, 100);
  EXPECT_GT(failed_reads, 100);
  EXPECT_GT(good_reads, 100);
}

TEST(ChunkedImage, CacheIsBoundedAndLeastRecentlyUsed) {
  const std::vector<uint8_t> raw = text_data(16 * 4096, 4);  // no zero chunk: each one decodes
  ChunkedImageOptions o;
  o.chunk_size = 4096;
  o.level = 3;
  std::string err;
  auto img = open_image(make_image(raw, o), &err, 3);
  ASSERT_NE(img, nullptr) << err;
  uint8_t b[16];
  auto touch = [&](uint64_t chunk) {
    ASSERT_TRUE(img->read(chunk * 4096 + 100, b, sizeof b)) << img->error();
    ASSERT_EQ(0, std::memcmp(b, raw.data() + chunk * 4096 + 100, sizeof b));
  };
  touch(0);
  touch(1);
  touch(2);
  EXPECT_EQ(img->chunks_decoded(), 3u);
  touch(0);  // a hit: chunk 0 is now the most recent, chunk 1 the least
  EXPECT_EQ(img->chunks_decoded(), 3u);
  EXPECT_EQ(img->cache_hits(), 1u);
  touch(3);  // evicts chunk 1
  touch(0);
  touch(2);
  EXPECT_EQ(img->chunks_decoded(), 4u);
  touch(1);
  EXPECT_EQ(img->chunks_decoded(), 5u);
  for (uint64_t c = 0; c < 16; ++c) touch(c);
  EXPECT_LE(img->cache_bytes(), 3u * 4096) << "at most cache_chunks decoded chunks are held";

  // Whole-chunk reads decode straight into the caller's buffer and leave the cache alone.
  auto fresh = open_image(make_image(raw, o), &err, 2);
  std::vector<uint8_t> all(raw.size());
  ASSERT_TRUE(fresh->read(0, all.data(), all.size()));
  EXPECT_TRUE(all == raw);
  EXPECT_EQ(fresh->cache_bytes(), 0u);
  EXPECT_EQ(fresh->chunks_decoded(), 16u);
  // The bound holds for the default cache with the default chunk size too.
  ChunkedImageOptions fast;
  fast.level = 1;
  auto big = open_image(make_image(text_data(40 << 20, 8), fast), &err);
  ASSERT_NE(big, nullptr) << err;
  for (uint64_t off = 17; off < big->size(); off += 300000) ASSERT_TRUE(big->read(off, b, 1));
  EXPECT_LE(big->cache_bytes(),
            uint64_t{ChunkedImage::kDefaultCacheChunks} * ChunkedImageOptions::kDefaultChunkSize);
  EXPECT_EQ(big->chunk_size(), ChunkedImageOptions::kDefaultChunkSize);
}

TEST(BlockSources, MemoryAndFile) {
  const std::vector<uint8_t> raw = mixed_data(10000, 6);
  MemorySource mem(raw.data(), raw.size());
  char path[] = "/tmp/c2w-source-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, raw.data(), raw.size()), static_cast<ssize_t>(raw.size()));
  std::string err;
  auto file = FileSource::adopt(fd, &err);
  ASSERT_NE(file, nullptr) << err;
  for (BlockSource* s : {static_cast<BlockSource*>(&mem), static_cast<BlockSource*>(file.get())}) {
    EXPECT_EQ(s->size(), raw.size());
    std::vector<uint8_t> b(raw.size());
    ASSERT_TRUE(s->read(0, b.data(), b.size()));
    EXPECT_TRUE(b == raw);
    ASSERT_TRUE(s->read(9000, b.data(), 1000));
    EXPECT_EQ(0, std::memcmp(b.data(), raw.data() + 9000, 1000));
    EXPECT_TRUE(s->read(10000, b.data(), 0));
    EXPECT_FALSE(s->read(9001, b.data(), 1000));
    EXPECT_FALSE(s->read(~uint64_t{0}, b.data(), 2));
  }
  EXPECT_EQ(FileSource::open("/nonexistent/c2w-disk", &err), nullptr);
  EXPECT_NE(err.find("/nonexistent/c2w-disk: "), std::string::npos) << err;
  EXPECT_EQ(FileSource::open("/tmp", &err), nullptr);
  EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
  unlink(path);
}

}  // namespace
