// Writes a raw disk image in the chunked format of chunked_image.h, with libzstd. Native only
// (the wasm32 part has zstd's decompressor alone); built as
// c2w_emulators_common_chunked_image_writer.
//
// The output is deterministic: the same raw bytes and options give the same file with the same
// libzstd (single-threaded compression at a fixed level, no frame checksum, no dictionary id).
// All-zero chunks are stored as zero chunks, chunks zstd does not shrink are stored raw.
// Memory use is a few chunks, whatever the image size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emulators/common/block_source.h"

namespace c2w::emulators {

struct ChunkedImageOptions {
  // Measured with bench/chunked_image_bench on 128 MiB of a tar of /usr/lib (python3.11, gcc;
  // whole-file zstd -19 gives 0.259, -3 0.328), level 19, ratio / random 4 KiB read (one chunk
  // decode + checksum) native, wasm32 on node 20:
  //    64 KiB  0.311    67 us,   98 us       512 KiB  0.283   ~500 us
  //   256 KiB  0.291   260 us,  410 us         1 MiB  0.277   940 us, 1420 us
  // Sequential decode is 0.9-1 GiB/s natively and 0.55-0.8 GiB/s in wasm32 at every size.
  // 256 KiB keeps the ratio within 5% of 1 MiB chunks at a quarter of the cost of a random
  // read (metadata and small files are read at random; Linux reads ahead 128 KiB).
  static constexpr uint32_t kDefaultChunkSize = 256 << 10;
  // Decode speed does not depend on the level; the ratio at 256 KiB: level 6 0.325 (55 MiB/s
  // to convert), 9 0.314 (32 MiB/s), 13 0.305 (9 MiB/s), 15 0.293 (5-7 MiB/s), 19 0.291
  // (2.5-3.4 MiB/s). 15 is the knee: nearly 19's size at twice its speed.
  static constexpr int kDefaultLevel = 15;

  uint32_t chunk_size = kDefaultChunkSize;  // a power of two, 4 KiB..16 MiB
  int level = kDefaultLevel;                // zstd level, 1..22
};

// What a conversion produced.
struct ChunkedImageStats {
  uint64_t image_size = 0, file_size = 0;
  uint64_t chunks = 0, zero_chunks = 0, raw_chunks = 0, zstd_chunks = 0;
};

// Writes the chunked image of `raw` to the regular file `fd` from offset 0 (with pwrite; the
// file is truncated to the image's length at the end). False with *error on failure.
bool write_chunked_image(BlockSource& raw, int fd, const ChunkedImageOptions& options,
                         std::string* error, ChunkedImageStats* stats = nullptr);

// The same, into memory.
bool build_chunked_image(BlockSource& raw, const ChunkedImageOptions& options,
                         std::vector<uint8_t>* out, std::string* error,
                         ChunkedImageStats* stats = nullptr);

}  // namespace c2w::emulators
