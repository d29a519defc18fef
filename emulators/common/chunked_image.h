// A read-only disk image stored as independently compressed chunks, and its reader. The disk
// of a converted container is kept in this form (inside out.wasm or next to it); the reader
// decompresses on demand in the emulator, never in the guest. It builds natively and for
// wasm32-wasi (zstd's decompressor only; the writer is chunked_image_writer.h, native only).
//
// Format (version 1). All integers little-endian; XXH64 is xxh64.h with seed 0.
//
//   header, 64 bytes
//     0   8  magic "c2wdisk\0"
//     8   4  u32 version = 1
//     12  4  u32 chunk size: a power of two, kMinChunkSize..kMaxChunkSize
//     16  8  u64 image size in bytes (any value; the last chunk holds the remainder)
//     24  8  u64 chunk count = ceil(image size / chunk size), at most kMaxChunks
//     32  8  u64 index offset = 64
//     40  8  u64 data offset = 64 + 24 * chunk count
//     48  8  u64 XXH64 of the index (its 24 * chunk count bytes)
//     56  8  u64 XXH64 of header bytes 0..55
//   index, one 24-byte entry per chunk, in chunk order
//     0   8  u64 offset of the chunk's stored bytes in the file (0 for a zero chunk)
//     8   4  u32 stored length (0 for a zero chunk)
//     12  1  u8 kind: 0 zero (all bytes zero, nothing stored), 1 raw (stored as is),
//                     2 zstd (one zstd frame)
//     13  3  reserved, zero
//     16  8  u64 XXH64 of the chunk's decoded bytes (0 for a zero chunk)
//   data: the stored bytes of the raw and zstd chunks, in index order, from the data offset on
//
// A chunk's decoded length is the chunk size, except for the last chunk (image size minus the
// bytes before it). A raw chunk stores exactly its decoded length; a zstd frame is shorter
// than it (the writer stores a chunk raw when zstd does not make it smaller).
//
// The reader promises (every byte of the file is untrusted):
//  - open() checks the header (magic, version, checksum, sizes, counts without overflow) and
//    the whole index (its checksum; every kind and reserved field; every stored range within
//    the file, at or after the data offset, in order and without overlap; every length as the
//    kind requires) before it returns an image. Nothing is allocated by a size from the file
//    until that size was checked against the file's size.
//  - read() never reads outside the file or writes outside dst. A chunk whose frame does not
//    decode to exactly its decoded length, or whose decoded bytes do not match the index
//    checksum, fails the read (error() then says which chunk and why); the next read of that
//    chunk tries again.
//  - memory is bounded: the index (24 bytes a chunk), at most cache_chunks decoded chunks
//    (least recently used out first), one buffer of a chunk size for stored bytes, and zstd's
//    decompression context (no window buffer: frames are decoded in one call). A read covering
//    a whole chunk decodes it straight into dst and leaves the cache alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emulators/common/block_source.h"

namespace c2w::emulators {

struct ChunkedImageFormat {
  static constexpr char kMagic[8] = {'c', '2', 'w', 'd', 'i', 's', 'k', '\0'};
  static constexpr uint32_t kVersion = 1;
  static constexpr uint32_t kHeaderSize = 64;
  static constexpr uint32_t kEntrySize = 24;
  static constexpr uint32_t kMinChunkSize = 4096;
  static constexpr uint32_t kMaxChunkSize = 16 << 20;
  static constexpr uint64_t kMaxChunks = uint64_t{1} << 24;
  enum Kind : uint8_t { kZero = 0, kRaw = 1, kZstd = 2 };
};

// A disk file as a runner gets it on its command line: a chunked image when the file starts
// with ChunkedImageFormat::kMagic (*image then points at it, for its error()), else the raw
// file. Null with *error ("PATH: reason") when it cannot be opened or is a bad chunked image.
std::unique_ptr<BlockSource> open_disk(const std::string& path, std::string* error,
                                       class ChunkedImage** image = nullptr);

class ChunkedImage : public BlockSource {
 public:
  static constexpr unsigned kDefaultCacheChunks = 8;
  static constexpr unsigned kMaxCacheChunks = 64;

  // Validates `file` as a chunked image and returns a reader over it (which owns the file).
  // cache_chunks is clamped to 1..kMaxCacheChunks. Null with *error saying what is wrong.
  static std::unique_ptr<ChunkedImage> open(std::unique_ptr<BlockSource> file, std::string* error,
                                            unsigned cache_chunks = kDefaultCacheChunks);
  ~ChunkedImage() override;
  ChunkedImage(const ChunkedImage&) = delete;
  ChunkedImage& operator=(const ChunkedImage&) = delete;

  // The decoded image.
  uint64_t size() const override { return image_size_; }
  bool read(uint64_t offset, uint8_t* dst, uint64_t len) override;

  uint32_t chunk_size() const { return chunk_size_; }
  uint64_t chunk_count() const { return index_.size(); }
  // XXH64 of the index: names the image's content (it covers every chunk's checksum).
  uint64_t index_digest() const { return index_digest_; }
  // Why the last failed read failed, as one line ("chunk 3 of the disk image is corrupt: ...").
  const std::string& error() const { return error_; }

  // For tests and benches: chunks decoded (or read raw) and verified so far, reads served from
  // the cache, and the bytes of decoded chunks the cache holds now.
  uint64_t chunks_decoded() const { return decoded_; }
  uint64_t cache_hits() const { return hits_; }
  uint64_t cache_bytes() const;

 private:
  struct Entry {
    uint64_t offset;
    uint64_t checksum;
    uint32_t length;
    uint8_t kind;
  };
  struct Slot {
    uint64_t chunk = UINT64_MAX;  // UINT64_MAX: empty
    uint64_t last_use = 0;
    std::vector<uint8_t> bytes;
  };
  struct Zstd;

  ChunkedImage() = default;
  uint64_t decoded_length(uint64_t chunk) const;
  // Decodes chunk into out (decoded_length(chunk) bytes) and checks it; false with error_.
  bool decode(uint64_t chunk, uint8_t* out);
  const uint8_t* cached(uint64_t chunk);

  std::unique_ptr<BlockSource> file_;
  uint32_t chunk_size_ = 0;
  uint64_t image_size_ = 0;
  uint64_t index_digest_ = 0;
  std::vector<Entry> index_;
  std::vector<Slot> cache_;
  std::vector<uint8_t> stored_;  // the stored bytes of the chunk being decoded
  std::unique_ptr<Zstd> zstd_;
  uint64_t clock_ = 0;
  uint64_t decoded_ = 0, hits_ = 0;
  std::string error_;
};

}  // namespace c2w::emulators
