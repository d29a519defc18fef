#include "ops/unpack/stream.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "ops/unpack/unpack.h"

namespace c2w::unpack {

namespace {
// Large reads: fewer syscalls and callbacks; 1 MiB also bounds the memory per layer.
constexpr size_t kBlock = 1 << 20;
}  // namespace

struct LayerStream::Gzip {
  z_stream zs{};
  bool member_done = false;  // a member ended; another may follow
  bool finished = false;
  Gzip() {
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("zlib init failed");
  }
  ~Gzip() { inflateEnd(&zs); }
};

std::string sniff_compression(std::string_view head) {
  auto starts = [&](std::string_view magic) { return head.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) return "gzip";
  if (starts("\x28\xb5\x2f\xfd")) return "zstd";
  if (starts(std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6))) return "xz";
  if (starts("BZh")) return "bzip2";
  return "none";
}

LayerStream::LayerStream(const std::filesystem::path& file, Progress progress)
    : progress_(std::move(progress)), block_(kBlock) {
  fd_.reset(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd_.valid() || ::fstat(fd_.get(), &st) != 0)
    throw std::runtime_error("cannot open " + file.string() + ": " + strerror(errno));
  total_ = static_cast<uint64_t>(st.st_size);
  ssize_t n = next_block();
  if (failure_) std::rethrow_exception(failure_);
  if (n < 0) throw std::runtime_error(error_);
  ahead_ = static_cast<size_t>(n);
  compression_ = sniff_compression(std::string_view(block_.data(), ahead_));
  if (compression_ == "gzip") {
    gzip_ = std::make_unique<Gzip>();
  } else if (compression_ != "none") {
    filter_.reset(archive_read_new());
    archive* a = filter_.get();
    archive_read_support_format_raw(a);
    if (compression_ == "zstd") archive_read_support_filter_zstd(a);
    if (compression_ == "xz") archive_read_support_filter_xz(a);
    if (compression_ == "bzip2") archive_read_support_filter_bzip2(a);
    archive_entry* entry = nullptr;
    if (archive_read_open(a, this, nullptr, archive_pull, nullptr) != ARCHIVE_OK ||
        archive_read_next_header(a, &entry) != ARCHIVE_OK) {
      if (error_.empty())
        error_ = compression_ + " stream: " +
                 (archive_error_string(a) ? archive_error_string(a) : "cannot start decoding");
    }
  }
}

LayerStream::~LayerStream() = default;

ssize_t LayerStream::next_block() {
  if (ahead_ > 0) return static_cast<ssize_t>(std::exchange(ahead_, 0));
  if (blob_end_) return 0;
  if (!ok()) return -1;
  ssize_t n;
  do n = ::read(fd_.get(), block_.data(), block_.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    error_ = std::string("cannot read the blob: ") + strerror(errno);
    return -1;
  }
  if (n == 0) blob_end_ = true;
  blob_hash_.update(block_.data(), static_cast<size_t>(n));
  read_ += static_cast<uint64_t>(n);
  if (progress_ && n > 0) {
    try {
      progress_(read_, total_);
    } catch (...) {
      failure_ = std::current_exception();
      return -1;
    }
  }
  return n;
}

la_ssize_t LayerStream::archive_pull(archive* a, void* ctx, const void** out) {
  auto* self = static_cast<LayerStream*>(ctx);
  *out = self->block_.data();
  ssize_t n = self->next_block();
  if (n < 0)
    archive_set_error(a, EIO, "%s", self->error_.empty() ? "cancelled" : self->error_.c_str());
  return n;
}

ssize_t LayerStream::inflate_gzip(char* buf, size_t size) {
  Gzip& g = *gzip_;
  for (;;) {
    if (g.finished) return 0;
    if (g.zs.avail_in == 0) {
      ssize_t n = next_block();
      if (n < 0) return -1;
      if (n == 0) {
        if (g.member_done) {
          g.finished = true;
          return 0;
        }
        error_ = "gzip stream: unexpected end of data (truncated blob)";
        return -1;
      }
      g.zs.next_in = reinterpret_cast<Bytef*>(block_.data());
      g.zs.avail_in = static_cast<uInt>(n);
    }
    if (g.member_done) {
      // Concatenated members continue the stream; other trailing bytes (zero padding) end it,
      // as gzip(1) treats them. They still count in the blob digest.
      if (g.zs.next_in[0] != 0x1f) {
        g.finished = true;
        return 0;
      }
      inflateReset(&g.zs);
      g.member_done = false;
    }
    g.zs.next_out = reinterpret_cast<Bytef*>(buf);
    g.zs.avail_out = static_cast<uInt>(size);
    int rc = inflate(&g.zs, Z_NO_FLUSH);
    size_t produced = size - g.zs.avail_out;
    if (rc == Z_STREAM_END) {
      g.member_done = true;  // zlib has checked this member's CRC-32 and length
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error_ =
          std::string("gzip stream: ") + (g.zs.msg ? g.zs.msg : "zlib error " + std::to_string(rc));
      return -1;
    }
    if (produced > 0) return static_cast<ssize_t>(produced);
  }
}

ssize_t LayerStream::decode(char* buf, size_t size) {
  if (gzip_) return inflate_gzip(buf, size);
  if (filter_) {
    la_ssize_t n = archive_read_data(filter_.get(), buf, size);
    if (n < 0 && error_.empty() && !failure_) {
      const char* why = archive_error_string(filter_.get());
      error_ = compression_ + " stream: " + (why ? why : "decoding failed");
    }
    return n;
  }
  // Uncompressed: hand out the blob's blocks as they are.
  if (none_pos_ == none_len_) {
    ssize_t n = next_block();
    if (n <= 0) return n;
    none_pos_ = 0;
    none_len_ = static_cast<size_t>(n);
  }
  size_t n = std::min(size, none_len_ - none_pos_);
  std::memcpy(buf, block_.data() + none_pos_, n);
  none_pos_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t LayerStream::read(char* buf, size_t size) {
  if (!ok()) return -1;
  ssize_t n = decode(buf, size);
  if (n < 0) {
    if (ok()) error_ = compression_ + " stream: decoding failed";
    return -1;
  }
  tar_hash_.update(buf, static_cast<size_t>(n));
  produced_ += static_cast<uint64_t>(n);
  return n;
}

void LayerStream::drain() {
  std::vector<char> scratch(kBlock);
  while (read(scratch.data(), scratch.size()) > 0) {
  }
  while (ok() && next_block() > 0) {
  }
}

}  // namespace c2w::unpack
