// Advisory file locks (flock) that make the cache safe for several c2w processes at once:
// a vertex is computed by one process while others wait for its result, and prune runs only
// when no solve is using the cache.
#pragma once

#include <filesystem>

#include "base/fd.h"

namespace c2w::cache {

class FileLock {
 public:
  enum class Mode { kShared, kExclusive };
  FileLock() = default;
  // Blocks until the lock is held. Creates the lock file if needed.
  FileLock(const std::filesystem::path& path, Mode mode);
  // Returns an unlocked FileLock (held() == false) instead of waiting when it is taken.
  static FileLock try_lock(const std::filesystem::path& path, Mode mode);
  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept = default;

  bool held() const { return fd_.valid(); }
  void release() { fd_.reset(); }  // closing the file drops the flock

 private:
  Fd fd_;
};

}  // namespace c2w::cache
