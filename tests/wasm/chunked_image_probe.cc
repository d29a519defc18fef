// Chunked disk images read by the wasm32 build (zstd's decompressor compiled from source) give
// the bytes the native writer was given. Built for wasm32 (check only) and natively (make and
// check); tests/toolchain/chunked-image-wasm.sh compares them.
//
//   chunked_image_probe make DIR    native: writes DIR/disk.c2wdisk (a chunked image of a
//                                   generated raw disk: text, random and zero stretches, an odd
//                                   size) and DIR/bad.c2wdisk (one frame corrupted), and prints
//                                   the digests of the raw disk
//   chunked_image_probe check IMAGE prints the same digests of the image's decoded bytes; a
//                                   failed read prints one line "error: ..." and exits 1
//
// Digests: the size, the chunk count, XXH64 of the whole disk, and XXH64 of the XXH64s of 500
// seeded reads at odd offsets and lengths (partial chunks, chunk boundaries, the cache).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "emulators/common/block_source.h"
#include "emulators/common/chunked_image.h"
#include "emulators/common/xxh64.h"
#ifndef __wasi__
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "emulators/common/chunked_image_writer.h"
#endif

namespace {

using c2w::emulators::BlockSource;
using c2w::emulators::xxh64;

constexpr uint32_t kChunk = 64 << 10;

// Prints the digest lines of `src`; false (after an "error:" line) if a read fails.
bool digests(BlockSource& src, uint64_t chunks, const std::string& (*why)(BlockSource&)) {
  const uint64_t size = src.size();
  std::vector<uint8_t> all(size);
  if (!src.read(0, all.data(), size)) return std::printf("error: %s\n", why(src).c_str()), false;
  std::vector<uint64_t> reads;  // XXH64 of each read
  uint64_t state = 0x2545f4914f6cdd1dull;
  std::vector<uint8_t> buf(3 * kChunk);
  for (int i = 0; i < 500; ++i) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    const uint64_t off = state % size;
    const uint64_t left = size - off;
    const uint64_t len = (state >> 32) % (left < buf.size() ? left + 1 : buf.size());
    if (!src.read(off, buf.data(), len)) return std::printf("error: %s\n", why(src).c_str()), false;
    reads.push_back(xxh64(buf.data(), len));
  }
  std::printf("size %llu\nchunks %llu\ndisk %016llx\nreads %016llx\n",
              static_cast<unsigned long long>(size), static_cast<unsigned long long>(chunks),
              static_cast<unsigned long long>(xxh64(all.data(), all.size())),
              static_cast<unsigned long long>(xxh64(reads.data(), reads.size() * 8)));
  return true;
}

const std::string& image_error(BlockSource& src) {
  return static_cast<c2w::emulators::ChunkedImage&>(src).error();
}

int check(const char* path) {
  std::string error;
  auto file = c2w::emulators::FileSource::open(path, &error);
  if (!file) return std::printf("error: %s\n", error.c_str()), 1;
  auto img = c2w::emulators::ChunkedImage::open(std::move(file), &error, 4);
  if (!img) return std::printf("error: %s\n", error.c_str()), 1;
  return digests(*img, img->chunk_count(), image_error) ? 0 : 1;
}

#ifndef __wasi__
const std::string& no_error(BlockSource&) {
  static const std::string none = "raw read failed";
  return none;
}

bool write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  return ::close(fd) == 0 && ok;
}

int make(const std::string& dir) {
  // 40 chunks and a bit: text, random bytes and zero chunks.
  std::vector<uint8_t> raw(40 * kChunk + 12345);
  uint64_t state = 88172645463325252ull;
  for (uint64_t i = 0; i < raw.size(); ++i) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    const uint64_t region = i / 50000 % 4;
    raw[i] = region == 0   ? static_cast<uint8_t>(state)
             : region == 1 ? static_cast<uint8_t>("c2w chunked disk image\n"[i % 23])
             : region == 2 ? 0
                           : static_cast<uint8_t>(i >> 8);
  }
  std::memset(raw.data() + 7 * kChunk, 0, 3 * kChunk);
  c2w::emulators::MemorySource src(raw.data(), raw.size());
  c2w::emulators::ChunkedImageOptions o;
  o.chunk_size = kChunk;
  c2w::emulators::ChunkedImageStats st;
  std::vector<uint8_t> image;
  std::string error;
  if (!c2w::emulators::build_chunked_image(src, o, &image, &error, &st))
    return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  if (st.zero_chunks < 3 || st.zstd_chunks < 10 || st.raw_chunks < 1)
    return std::fprintf(stderr, "the probe disk lacks a kind of chunk\n"), 1;
  std::vector<uint8_t> bad = image;
  uint64_t off;
  uint32_t len;
  std::memcpy(&off, bad.data() + 64 + 24 * 5, 8);
  std::memcpy(&len, bad.data() + 64 + 24 * 5 + 8, 4);
  bad[off + len / 2] ^= 0x40;
  if (!write_file(dir + "/disk.c2wdisk", image) || !write_file(dir + "/bad.c2wdisk", bad))
    return std::fprintf(stderr, "cannot write into %s\n", dir.c_str()), 1;
  return digests(src, st.chunks, no_error) ? 0 : 1;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc == 3 ? argv[1] : "";
  if (cmd == "check") return check(argv[2]);
#ifndef __wasi__
  if (cmd == "make") return make(argv[2]);
#endif
  std::fprintf(stderr, "usage: chunked_image_probe make DIR | check IMAGE\n");
  return 2;
}
