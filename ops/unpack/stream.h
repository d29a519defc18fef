// One layer blob as a stream of uncompressed tar bytes. The blob is read in large blocks (no
// whole-layer buffers), hashed (its digest) and reported (progress) as it goes; the compression
// is sniffed from the first bytes; the uncompressed bytes are hashed too (the diff_id).
// gzip goes through zlib directly because zlib checks each member's CRC-32 and length, which
// libarchive's gzip filter does not; zstd, xz and bzip2 go through libarchive's filters.
#pragma once

#include <archive.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/fd.h"
#include "oci/sha256.h"

namespace c2w::unpack {

class LayerStream {
 public:
  using Progress = std::function<void(uint64_t read, uint64_t total)>;

  // Throws std::runtime_error when the blob cannot be opened or read.
  LayerStream(const std::filesystem::path& file, Progress progress);
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  // "gzip", "zstd", "xz", "bzip2" or "none".
  const std::string& compression() const { return compression_; }

  // Up to `size` uncompressed bytes into `buf`: the count, 0 at the end, -1 on failure. Never
  // throws (libarchive calls it from C): failures are kept in error() and failure().
  ssize_t read(char* buf, size_t size);
  // Reads what is left of both streams, so the digests cover every byte; stops at a failure.
  void drain();

  // A read or decompression error ("" if none).
  const std::string& error() const { return error_; }
  // An exception thrown by the progress callback (cancellation), to be rethrown by the caller.
  std::exception_ptr failure() const { return failure_; }
  bool ok() const { return error_.empty() && !failure_; }

  // After drain(): sha256 of the blob and of the uncompressed tar.
  std::string blob_digest() { return blob_hash_.digest(); }
  std::string diff_id() { return tar_hash_.digest(); }
  uint64_t compressed_bytes() const { return read_; }
  uint64_t uncompressed_bytes() const { return produced_; }

 private:
  struct Gzip;
  struct ArchiveFree {
    void operator()(archive* a) const { archive_read_free(a); }
  };

  ssize_t next_block();
  ssize_t decode(char* buf, size_t size);
  ssize_t inflate_gzip(char* buf, size_t size);
  static la_ssize_t archive_pull(archive* a, void* ctx, const void** out);

  Fd fd_;
  Progress progress_;
  oci::Sha256 blob_hash_, tar_hash_;
  uint64_t read_ = 0, total_ = 0, produced_ = 0;
  std::vector<char> block_;
  size_t ahead_ = 0;  // bytes of block_ read ahead (for sniffing) and not yet handed out
  size_t none_pos_ = 0, none_len_ = 0;  // uncompressed blobs: what is left of block_
  bool blob_end_ = false;
  std::string compression_;
  std::unique_ptr<Gzip> gzip_;
  std::unique_ptr<archive, ArchiveFree> filter_;
  std::string error_;
  std::exception_ptr failure_;
};

}  // namespace c2w::unpack
