#include "emulators/common/chunked_image_writer.h"

#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "emulators/common/byte_io.h"
#include "emulators/common/chunked_image.h"
#include "emulators/common/xxh64.h"

namespace c2w::emulators {
namespace {

using F = ChunkedImageFormat;
// Writes bytes at an offset of the output; false with errno-style *error on failure.
using Sink = std::function<bool(uint64_t offset, const uint8_t* data, uint64_t len)>;

bool all_zero(const uint8_t* p, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i)
    if (p[i]) return false;
  return true;
}

bool convert(BlockSource& raw, const ChunkedImageOptions& o, const Sink& sink, std::string* error,
             ChunkedImageStats* stats_out) {
  const uint32_t cs = o.chunk_size;
  if (cs < F::kMinChunkSize || cs > F::kMaxChunkSize || (cs & (cs - 1)) != 0)
    return *error = "chunk size " + std::to_string(cs) + " is not a power of two in 4 KiB..16 MiB",
           false;
  if (o.level < 1 || o.level > ZSTD_maxCLevel())
    return *error = "zstd level " + std::to_string(o.level) + " is not in 1.." +
                    std::to_string(ZSTD_maxCLevel()),
           false;
  const uint64_t image_size = raw.size();
  const uint64_t count = image_size / cs + (image_size % cs != 0);
  if (count > F::kMaxChunks)
    return *error = "the image is too large for chunks of " + std::to_string(cs) + " bytes", false;
  const uint64_t data_offset = F::kHeaderSize + count * F::kEntrySize;

  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (!cctx) return *error = "cannot allocate a zstd compression context", false;
  struct Free {
    ZSTD_CCtx* c;
    ~Free() { ZSTD_freeCCtx(c); }
  } free_cctx{cctx};
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, o.level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);  // the index has a checksum per chunk
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);

  ChunkedImageStats stats;
  stats.image_size = image_size;
  stats.chunks = count;
  ByteWriter index;
  std::vector<uint8_t> chunk(cs), frame(cs);
  uint64_t at = data_offset;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t len = i + 1 < count ? cs : image_size - i * cs;
    if (!raw.read(i * cs, chunk.data(), len))
      return *error = "cannot read bytes " + std::to_string(i * cs) + ".." +
                      std::to_string(i * cs + len) + " of the raw image",
             false;
    uint8_t kind;
    const uint8_t* stored = chunk.data();
    uint64_t stored_len = len;
    if (all_zero(chunk.data(), len)) {
      kind = F::kZero;
      stored_len = 0;
      ++stats.zero_chunks;
    } else {
      // Room for one byte less than the chunk: a frame that does not fit is not worth it.
      const size_t n = ZSTD_compress2(cctx, frame.data(), len - 1, chunk.data(), len);
      if (!ZSTD_isError(n)) {
        kind = F::kZstd;
        stored = frame.data();
        stored_len = n;
        ++stats.zstd_chunks;
      } else if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) {
        kind = F::kRaw;
        ++stats.raw_chunks;
      } else {
        return *error = std::string("zstd: ") + ZSTD_getErrorName(n), false;
      }
    }
    index.u64(kind == F::kZero ? 0 : at);
    index.u32(static_cast<uint32_t>(stored_len));
    index.u8(kind);
    index.u8(0);
    index.u8(0);
    index.u8(0);
    index.u64(kind == F::kZero ? 0 : xxh64(chunk.data(), len));
    if (stored_len && !sink(at, stored, stored_len)) return false;
    at += stored_len;
  }

  ByteWriter header;
  header.bytes(F::kMagic, sizeof F::kMagic);
  header.u32(F::kVersion);
  header.u32(cs);
  header.u64(image_size);
  header.u64(count);
  header.u64(F::kHeaderSize);
  header.u64(data_offset);
  header.u64(xxh64(index.data().data(), index.data().size()));
  header.u64(xxh64(header.data().data(), header.data().size()));
  if (!sink(0, header.data().data(), header.data().size()) ||
      !sink(F::kHeaderSize, index.data().data(), index.data().size()))
    return false;
  // An empty tail (an image of only zero chunks) still needs its length.
  if (!sink(at, nullptr, 0)) return false;
  stats.file_size = at;
  if (stats_out) *stats_out = stats;
  return true;
}

}  // namespace

bool write_chunked_image(BlockSource& raw, int fd, const ChunkedImageOptions& options,
                         std::string* error, ChunkedImageStats* stats) {
  const Sink sink = [&](uint64_t offset, const uint8_t* data, uint64_t len) {
    while (len > 0) {
      const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0)
        return *error = std::string("write: ") + std::strerror(n < 0 ? errno : EIO), false;
      data += n;
      offset += static_cast<uint64_t>(n);
      len -= static_cast<uint64_t>(n);
    }
    return true;
  };
  ChunkedImageStats s;
  if (!convert(raw, options, sink, error, &s)) return false;
  if (::ftruncate(fd, static_cast<off_t>(s.file_size)) != 0)
    return *error = std::string("truncate: ") + std::strerror(errno), false;
  if (stats) *stats = s;
  return true;
}

bool build_chunked_image(BlockSource& raw, const ChunkedImageOptions& options,
                         std::vector<uint8_t>* out, std::string* error, ChunkedImageStats* stats) {
  out->clear();
  const Sink sink = [&](uint64_t offset, const uint8_t* data, uint64_t len) {
    if (out->size() < offset + len) out->resize(offset + len);
    if (len) std::memcpy(out->data() + offset, data, len);
    return true;
  };
  return convert(raw, options, sink, error, stats);
}

}  // namespace c2w::emulators
