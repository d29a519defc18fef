#include "emulators/common/block_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace c2w::emulators {

bool MemorySource::read(uint64_t offset, uint8_t* dst, uint64_t len) {
  if (!in_range(offset, len)) return false;
  if (len) std::memcpy(dst, data_ + offset, len);
  return true;
}

std::unique_ptr<FileSource> FileSource::adopt(int fd, std::string* error) {
  struct stat st;
  if (fd < 0) return *error = "no file descriptor", nullptr;
  if (::fstat(fd, &st) != 0) {
    *error = std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  if (!S_ISREG(st.st_mode) || st.st_size < 0) {
    *error = "not a regular file";
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, static_cast<uint64_t>(st.st_size)));
}

std::unique_ptr<FileSource> FileSource::open(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return *error = path + ": " + std::strerror(errno), nullptr;
  auto source = adopt(fd, error);
  if (!source) *error = path + ": " + *error;
  return source;
}

FileSource::~FileSource() {
  ::close(fd_);
}

bool FileSource::read(uint64_t offset, uint8_t* dst, uint64_t len) {
  if (!in_range(offset, len)) return false;
  // pread takes an off_t and a size_t; keep each call within both (wasm32: 32-bit size_t).
  constexpr uint64_t kMaxCall = 1 << 30;
  while (len > 0) {
    const size_t want = static_cast<size_t>(len < kMaxCall ? len : kMaxCall);
    const ssize_t n = ::pread(fd_, dst, want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // an error, or the file shrank under us
    dst += n;
    offset += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace c2w::emulators
