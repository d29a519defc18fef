// The bytes behind a read-only disk: what the virtio block device (emulators/virtio/blk.h)
// reads from, and what a chunked image (chunked_image.h) reads its own bytes through. A
// BlockSource is a fixed-size array of bytes with random-access reads; it never changes size.
//
// Contract of read(): it copies exactly [offset, offset + len) to dst and returns true, or
// returns false when any part of the range lies past size() (checked without overflow) or the
// bytes cannot be produced (an I/O error, a corrupt compressed chunk). After false the contents
// of dst are unspecified but nothing outside [dst, dst + len) was written. A zero-length read
// at offset <= size() succeeds.
//
// Two sources over raw bytes: MemorySource (a span the caller keeps alive, e.g. a disk image
// inside the wasm module's data) and FileSource (a file descriptor read with pread, e.g. an
// image next to out.wasm). Both build natively and on wasm32-wasi.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace c2w::emulators {

class BlockSource {
 public:
  virtual ~BlockSource() = default;
  virtual uint64_t size() const = 0;
  virtual bool read(uint64_t offset, uint8_t* dst, uint64_t len) = 0;

  // Whether [offset, offset + len) lies within size(), without overflow.
  bool in_range(uint64_t offset, uint64_t len) const {
    return offset <= size() && len <= size() - offset;
  }
};

// A span of memory the caller owns and keeps alive and unchanged while the source is used.
class MemorySource : public BlockSource {
 public:
  MemorySource(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, uint8_t* dst, uint64_t len) override;

 private:
  const uint8_t* data_;
  uint64_t size_;
};

// A regular file read with pread (EINTR and short reads retried). Its size is taken once, at
// open: the file must not change while the source is used.
class FileSource : public BlockSource {
 public:
  // Takes ownership of fd (closed by the destructor, also on failure). Null with *error if
  // fd is not a readable regular file.
  static std::unique_ptr<FileSource> adopt(int fd, std::string* error);
  // Opens path read-only. Null with *error ("PATH: reason") on failure.
  static std::unique_ptr<FileSource> open(const std::string& path, std::string* error);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, uint8_t* dst, uint64_t len) override;

 private:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}
  int fd_;
  uint64_t size_;
};

}  // namespace c2w::emulators
