#include "cache/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"

namespace c2w::cache {

namespace {

int open_lock_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw system_error("cannot open lock " + path.string(), errno);
  return fd;
}

}  // namespace

FileLock::FileLock(const std::filesystem::path& path, Mode mode) : fd_(open_lock_file(path)) {
  int op = mode == Mode::kShared ? LOCK_SH : LOCK_EX;
  while (flock(fd_.get(), op) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    fd_.reset();
    throw system_error("cannot lock " + path.string(), err);
  }
}

FileLock FileLock::try_lock(const std::filesystem::path& path, Mode mode) {
  FileLock lock;
  lock.fd_ = Fd(open_lock_file(path));
  int op = (mode == Mode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  if (flock(lock.fd_.get(), op) != 0) lock.release();
  return lock;
}

}  // namespace c2w::cache
