#include "emulators/common/chunked_image.h"

#include <zstd.h>

#include <cstring>

#include "emulators/common/byte_io.h"
#include "emulators/common/xxh64.h"

namespace c2w::emulators {
namespace {

using F = ChunkedImageFormat;

std::string num(uint64_t v) {
  return std::to_string(v);
}

}  // namespace

struct ChunkedImage::Zstd {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ~Zstd() { ZSTD_freeDCtx(dctx); }
};

ChunkedImage::~ChunkedImage() = default;

std::unique_ptr<ChunkedImage> ChunkedImage::open(std::unique_ptr<BlockSource> file,
                                                 std::string* error, unsigned cache_chunks) {
  auto bad = [&](const std::string& why) {
    *error = "not a valid chunked disk image: " + why;
    return nullptr;
  };
  if (!file) return bad("no file");
  const uint64_t file_size = file->size();
  uint8_t header[F::kHeaderSize];
  if (file_size < F::kHeaderSize || !file->read(0, header, F::kHeaderSize))
    return bad("shorter than its 64-byte header");
  if (std::memcmp(header, F::kMagic, sizeof F::kMagic) != 0) return bad("no c2wdisk magic");
  ByteReader h(header + 8, F::kHeaderSize - 8);
  const uint32_t version = h.u32();
  const uint32_t chunk_size = h.u32();
  const uint64_t image_size = h.u64();
  const uint64_t count = h.u64();
  const uint64_t index_offset = h.u64();
  const uint64_t data_offset = h.u64();
  const uint64_t index_sum = h.u64();
  const uint64_t header_sum = h.u64();
  if (version != F::kVersion)
    return bad("format version " + num(version) + " (this build reads " + num(F::kVersion) + ")");
  if (header_sum != xxh64(header, F::kHeaderSize - 8)) return bad("header checksum mismatch");
  if (chunk_size < F::kMinChunkSize || chunk_size > F::kMaxChunkSize ||
      (chunk_size & (chunk_size - 1)) != 0)
    return bad("chunk size " + num(chunk_size) + " is not a power of two in 4 KiB..16 MiB");
  const uint64_t want_count = image_size / chunk_size + (image_size % chunk_size != 0);
  if (count != want_count) return bad("chunk count does not match the image size");
  if (count > F::kMaxChunks) return bad("more than " + num(F::kMaxChunks) + " chunks");
  // count <= 2^24, so these cannot overflow.
  const uint64_t index_len = count * F::kEntrySize;
  if (index_offset != F::kHeaderSize || data_offset != F::kHeaderSize + index_len)
    return bad("index or data offset out of place");
  if (data_offset > file_size) return bad("truncated (the index does not fit in the file)");

  std::vector<uint8_t> raw(index_len);
  if (!file->read(index_offset, raw.data(), index_len)) return bad("cannot read the index");
  if (xxh64(raw.data(), index_len) != index_sum) return bad("index checksum mismatch");

  std::unique_ptr<ChunkedImage> img(new ChunkedImage());
  img->index_.resize(count);
  img->chunk_size_ = chunk_size;
  img->image_size_ = image_size;
  img->index_digest_ = index_sum;
  uint64_t next_free = data_offset;  // stored ranges come in order, without overlap
  ByteReader r(raw.data(), index_len);
  for (uint64_t i = 0; i < count; ++i) {
    Entry& e = img->index_[i];
    e.offset = r.u64();
    e.length = r.u32();
    e.kind = r.u8();
    uint8_t reserved = r.u8();  // three bytes that must all be zero
    reserved |= r.u8();
    reserved |= r.u8();
    e.checksum = r.u64();
    const uint64_t decoded = img->decoded_length(i);
    const std::string which = "chunk " + num(i) + ": ";
    if (reserved != 0) return bad(which + "reserved bytes are not zero");
    switch (e.kind) {
      case F::kZero:
        if (e.offset != 0 || e.length != 0 || e.checksum != 0)
          return bad(which + "a zero chunk with stored bytes");
        continue;
      case F::kRaw:
        if (e.length != decoded) return bad(which + "a raw chunk of the wrong length");
        break;
      case F::kZstd:
        if (e.length == 0 || e.length >= decoded)
          return bad(which + "a zstd frame not shorter than its chunk");
        break;
      default:
        return bad(which + "unknown kind " + num(e.kind));
    }
    if (e.offset < next_free) return bad(which + "stored bytes out of order or overlapping");
    if (!file->in_range(e.offset, e.length)) return bad(which + "stored bytes past the file's end");
    next_free = e.offset + e.length;
  }
  if (!r.ok()) return bad("short index");

  if (cache_chunks < 1) cache_chunks = 1;
  if (cache_chunks > kMaxCacheChunks) cache_chunks = kMaxCacheChunks;
  img->cache_.resize(cache_chunks);
  img->zstd_ = std::make_unique<Zstd>();
  if (!img->zstd_->dctx) return *error = "cannot allocate a zstd decompression context", nullptr;
  img->file_ = std::move(file);
  return img;
}

uint64_t ChunkedImage::decoded_length(uint64_t chunk) const {
  const uint64_t start = chunk * chunk_size_;
  const uint64_t left = image_size_ - start;
  return left < chunk_size_ ? left : chunk_size_;
}

uint64_t ChunkedImage::cache_bytes() const {
  uint64_t n = 0;
  for (const Slot& s : cache_) n += s.bytes.capacity();
  return n;
}

bool ChunkedImage::decode(uint64_t chunk, uint8_t* out) {
  const Entry& e = index_[chunk];
  const uint64_t len = decoded_length(chunk);
  auto corrupt = [&](const std::string& why) {
    error_ = "chunk " + num(chunk) + " of the disk image (bytes " + num(chunk * chunk_size_) +
             ".." + num(chunk * chunk_size_ + len) + ") is corrupt: " + why;
    return false;
  };
  if (e.kind == F::kZero) {
    std::memset(out, 0, len);
    return true;
  }
  if (e.kind == F::kRaw) {
    if (!file_->read(e.offset, out, len)) return corrupt("cannot read its stored bytes");
  } else {
    if (stored_.size() < e.length) stored_.resize(e.length);  // e.length < chunk_size_
    if (!file_->read(e.offset, stored_.data(), e.length))
      return corrupt("cannot read its stored bytes");
    const size_t n = ZSTD_decompressDCtx(zstd_->dctx, out, len, stored_.data(), e.length);
    if (ZSTD_isError(n)) return corrupt(std::string("zstd: ") + ZSTD_getErrorName(n));
    if (n != len) return corrupt("it decodes to " + num(n) + " bytes, not " + num(len));
  }
  if (xxh64(out, len) != e.checksum) return corrupt("checksum mismatch");
  ++decoded_;
  return true;
}

const uint8_t* ChunkedImage::cached(uint64_t chunk) {
  Slot* victim = &cache_[0];  // an empty slot, else the least recently used one
  for (Slot& s : cache_) {
    if (s.chunk == chunk) {
      s.last_use = ++clock_;
      ++hits_;
      return s.bytes.data();
    }
    if (s.last_use < victim->last_use) victim = &s;
  }
  victim->chunk = UINT64_MAX;
  victim->last_use = 0;
  victim->bytes.resize(chunk_size_);
  if (!decode(chunk, victim->bytes.data())) return nullptr;
  victim->chunk = chunk;
  victim->last_use = ++clock_;
  return victim->bytes.data();
}

bool ChunkedImage::read(uint64_t offset, uint8_t* dst, uint64_t len) {
  if (!in_range(offset, len)) {
    error_ = "read of " + num(len) + " bytes at " + num(offset) + " is past the disk image's end";
    return false;
  }
  while (len > 0) {
    const uint64_t chunk = offset / chunk_size_;
    const uint64_t within = offset % chunk_size_;
    const uint64_t chunk_len = decoded_length(chunk);
    const uint64_t n = chunk_len - within < len ? chunk_len - within : len;
    if (index_[chunk].kind == F::kZero) {
      std::memset(dst, 0, n);
    } else if (within == 0 && n == chunk_len) {
      if (!decode(chunk, dst)) return false;
    } else {
      const uint8_t* bytes = cached(chunk);
      if (!bytes) return false;
      std::memcpy(dst, bytes + within, n);
    }
    dst += n;
    offset += n;
    len -= n;
  }
  return true;
}

std::unique_ptr<BlockSource> open_disk(const std::string& path, std::string* error,
                                       ChunkedImage** image) {
  auto file = FileSource::open(path, error);
  if (!file) return nullptr;
  constexpr auto& kMagic = ChunkedImageFormat::kMagic;
  char magic[sizeof kMagic] = {};
  if (file->size() < sizeof magic ||
      !file->read(0, reinterpret_cast<uint8_t*>(magic), sizeof magic) ||
      std::memcmp(magic, kMagic, sizeof magic) != 0)
    return file;
  auto img = ChunkedImage::open(std::move(file), error);
  if (!img) {
    *error = path + ": " + *error;
    return nullptr;
  }
  if (image) *image = img.get();
  return img;
}

}  // namespace c2w::emulators
