// Advisory file locks (flock) that make the cache safe for several c2w processes at once:
// a vertex is computed by one process while others wait for its result, and prune runs only
// when no solve is using the cache.
#pragma once

#include <filesystem>

namespace c2w::cache {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  FileLock() = default;
  // Blocks until the lock is held. Creates the lock file if needed.
  FileLock(const std::filesystem::path& path, Mode mode);
  // Returns an unlocked FileLock (held() == false) instead of waiting when it is taken.
  static FileLock try_lock(const std::filesystem::path& path, Mode mode);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  bool held() const { return fd_ >= 0; }
  void release();

 private:
  int fd_ = -1;
};

}  // namespace c2w::cache
