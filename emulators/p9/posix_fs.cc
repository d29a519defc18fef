// PosixFs: see posix_fs.h for the confinement rule every function here follows.
#include "emulators/p9/posix_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if !defined(__wasi__)
#include <sys/statvfs.h>
#endif

#include <cerrno>
#include <cstdint>

#include "emulators/p9/linux_abi.h"
#include "emulators/p9/posix_abi.h"

namespace c2w::p9 {
namespace {

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NOCTTY
#define O_NOCTTY 0
#endif

// Splits "a/b/c" into "a/b" and "c"; a path without '/' has the root as parent.
void split(const std::string& path, std::string* dir, std::string* name) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    dir->clear();
    *name = path;
  } else {
    *dir = path.substr(0, slash);
    *name = path.substr(slash + 1);
  }
}

// Opens name under dirfd and proves that what was opened is the object lstat saw there (same
// device and inode). O_NOFOLLOW alone is not enough: node's WASI runtime follows symlinks in
// path_open whatever the lookup flags say, so a symlink swapped in after the lstat could be
// opened. The open itself never truncates; callers truncate once the object is proven.
int open_verified(int dirfd, const char* name, int flags, const struct stat& seen, int* out) {
  int fd = ::openat(dirfd, name, flags | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return lx_errno();
  struct stat now;
  if (::fstat(fd, &now) < 0 || now.st_ino != seen.st_ino || now.st_dev != seen.st_dev ||
      (now.st_mode & S_IFMT) != (seen.st_mode & S_IFMT)) {
    ::close(fd);
    return kELOOP;
  }
  *out = fd;
  return 0;
}

}  // namespace

PosixFs::At::~At() {
  if (owned) ::close(fd);
}

int PosixFs::create_share(const char* root, std::unique_ptr<PosixFs>* out) {
  int fd = ::open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return lx_errno();
  out->reset(new PosixFs(fd));
  return 0;
}

PosixFs::~PosixFs() {
  for (Handle h = 0; h < static_cast<Handle>(files_.size()); ++h) close(h);
  ::close(root_);
}

int PosixFs::open_dir(const std::string& dir, At* at) {
  at->fd = root_;
  at->owned = false;
  size_t start = 0;
  while (start < dir.size()) {
    size_t end = dir.find('/', start);
    if (end == std::string::npos) end = dir.size();
    std::string comp = dir.substr(start, end - start);
    struct stat st;
    if (::fstatat(at->fd, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return lx_errno();
    if (!S_ISDIR(st.st_mode)) return S_ISLNK(st.st_mode) ? kELOOP : kENOTDIR;
    int fd;
    if (int e = open_verified(at->fd, comp.c_str(), O_RDONLY | O_DIRECTORY, st, &fd)) return e;
    if (at->owned) ::close(at->fd);
    at->fd = fd;
    at->owned = true;
    start = end + 1;
  }
  return 0;
}

int PosixFs::open_parent(const std::string& path, At* at) {
  if (path.empty()) {
    // The root itself: act on "." of the root descriptor, which is never a symlink.
    at->fd = root_;
    at->owned = false;
    at->name = ".";
    return 0;
  }
  std::string dir;
  split(path, &dir, &at->name);
  return open_dir(dir, at);
}

PosixFs::OpenFile* PosixFs::file(Handle h) {
  if (h < 0 || static_cast<size_t>(h) >= files_.size() || files_[h].fd < 0) return nullptr;
  return &files_[h];
}

Handle PosixFs::add(int fd) {
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i].fd < 0) {
      files_[i] = OpenFile{};
      files_[i].fd = fd;
      return static_cast<Handle>(i);
    }
  }
  files_.push_back(OpenFile{});
  files_.back().fd = fd;
  return static_cast<Handle>(files_.size() - 1);
}

int PosixFs::lstat(const std::string& path, Attr* out) {
  At at;
  if (int e = open_parent(path, &at)) return e;
  struct stat st;
  if (::fstatat(at.fd, at.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return lx_errno();
  to_attr(st, out);
  return 0;
}

int PosixFs::open_last(const At& at, uint32_t flags, Handle* out) {
  struct stat st;
  if (::fstatat(at.fd, at.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return lx_errno();
  int hf;
  if (S_ISDIR(st.st_mode)) {
    if ((flags & kO_ACCMODE) != kO_RDONLY) return kEISDIR;
    hf = O_RDONLY | O_DIRECTORY;
  } else if (S_ISREG(st.st_mode)) {
    hf = host_open_flags(flags & ~kO_TRUNC);
  } else if (S_ISLNK(st.st_mode)) {
    return kELOOP;
  } else {
    return kENXIO;  // fifos, sockets, devices: never opened on the host
  }
  // O_NONBLOCK (in open_verified): a fifo swapped in after the check must not hang the server.
  int fd;
  if (int e = open_verified(at.fd, at.name.c_str(), hf, st, &fd)) return e;
  if ((flags & kO_TRUNC) && S_ISREG(st.st_mode) && ::ftruncate(fd, 0) < 0) {
    int e = lx_errno();
    ::close(fd);
    return e;
  }
  *out = add(fd);
  return 0;
}

int PosixFs::open(const std::string& path, uint32_t flags, Handle* out) {
  At at;
  if (int e = open_parent(path, &at)) return e;
  return open_last(at, flags, out);
}

int PosixFs::create(const std::string& dir, const std::string& name, uint32_t flags, uint32_t mode,
                    Handle* out) {
  At at;
  if (int e = open_dir(dir, &at)) return e;
  struct stat before;
  if (::fstatat(at.fd, name.c_str(), &before, AT_SYMLINK_NOFOLLOW) == 0) {
    // It exists: never create through a symlink; otherwise open it like open() does.
    if (flags & kO_EXCL) return kEEXIST;
    if (S_ISLNK(before.st_mode)) return kELOOP;
    if (S_ISDIR(before.st_mode)) return kEISDIR;
    at.name = name;
    return open_last(at, flags, out);
  }
  int hf = host_open_flags(flags & ~kO_TRUNC) | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
           O_NONBLOCK | O_CLOEXEC;
  int fd = ::openat(at.fd, name.c_str(), hf, static_cast<mode_t>(mode & 07777));
  if (fd < 0 && errno == EEXIST && !(flags & kO_EXCL)) {
    at.name = name;  // made by someone else meanwhile: open it as it is
    return open_last(at, flags, out);
  }
  if (fd < 0) return lx_errno();
  struct stat st, there;
  // O_EXCL made a new file unless a symlink raced in and the runtime followed it: then the
  // name does not refer to what we opened.
  if (::fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
      ::fstatat(at.fd, name.c_str(), &there, AT_SYMLINK_NOFOLLOW) < 0 ||
      there.st_ino != st.st_ino || there.st_dev != st.st_dev) {
    ::close(fd);
    return kELOOP;
  }
  *out = add(fd);
  return 0;
}

void PosixFs::close(Handle h) {
  OpenFile* f = file(h);
  if (!f) return;
  if (f->dir) {
    ::closedir(f->dir);
  } else {
    ::close(f->fd);
  }
  *f = OpenFile{};
}

int PosixFs::fstat(Handle h, Attr* out) {
  OpenFile* f = file(h);
  if (!f) return kEBADF;
  struct stat st;
  if (::fstat(f->fd, &st) < 0) return lx_errno();
  to_attr(st, out);
  return 0;
}

int PosixFs::pread(Handle h, uint8_t* buf, size_t len, uint64_t off, size_t* got) {
  OpenFile* f = file(h);
  if (!f || f->dir) return kEBADF;
  if (off > static_cast<uint64_t>(INT64_MAX)) return kEINVAL;
  ssize_t n;
  do {
    n = ::pread(f->fd, buf, len, static_cast<off_t>(off));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return lx_errno();
  *got = static_cast<size_t>(n);
  return 0;
}

int PosixFs::pwrite(Handle h, const uint8_t* buf, size_t len, uint64_t off, size_t* put) {
  OpenFile* f = file(h);
  if (!f || f->dir) return kEBADF;
  if (off > static_cast<uint64_t>(INT64_MAX) - len) return kEFBIG;
  ssize_t n;
  do {
    n = ::pwrite(f->fd, buf, len, static_cast<off_t>(off));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return lx_errno();
  *put = static_cast<size_t>(n);
  return 0;
}

int PosixFs::fsync(Handle h, bool datasync) {
  OpenFile* f = file(h);
  if (!f) return kEBADF;
  int r = datasync ? ::fdatasync(f->fd) : ::fsync(f->fd);
  // Directories cannot always be synced through a read-only descriptor; nothing is lost then.
  if (r < 0 && (errno == EINVAL || errno == EBADF) && f->dir) return 0;
  return r < 0 ? lx_errno() : 0;
}

int PosixFs::ftruncate(Handle h, uint64_t size) {
  OpenFile* f = file(h);
  if (!f || f->dir) return kEBADF;
  if (size > static_cast<uint64_t>(INT64_MAX)) return kEFBIG;
  if (::ftruncate(f->fd, static_cast<off_t>(size)) < 0) return lx_errno();
  return 0;
}

int PosixFs::readdir(Handle h, uint64_t pos, DirEntry* out, bool* end) {
  OpenFile* f = file(h);
  if (!f) return kEBADF;
  *end = false;
  if (!f->dir) {
    f->dir = ::fdopendir(f->fd);
    if (!f->dir) return lx_errno();
    f->next = 0;
  }
  if (f->has_peek && f->peek_pos == pos) {
    *out = f->peek;
    return 0;
  }
  if (pos != f->next) {
    // A position other than the next one: start over and count entries (bounded by the
    // directory's size, whatever the guest asks for).
    ::rewinddir(f->dir);
    f->next = 0;
    f->has_peek = false;
    while (f->next < pos) {
      errno = 0;
      if (!::readdir(f->dir)) {
        if (errno) return lx_errno();
        *end = true;
        return 0;
      }
      ++f->next;
    }
  }
  errno = 0;
  struct dirent* d = ::readdir(f->dir);
  if (!d) {
    if (errno) return lx_errno();
    *end = true;
    return 0;
  }
  f->peek.ino = static_cast<uint64_t>(d->d_ino);
  f->peek.type = linux_dtype(d->d_type);
  f->peek.name = d->d_name;
  f->peek_pos = pos;
  f->has_peek = true;
  f->next = pos + 1;
  *out = f->peek;
  return 0;
}

int PosixFs::chmod(const std::string& path, uint32_t mode) {
#if defined(__wasi__)
  (void)path;
  (void)mode;
  return kEOPNOTSUPP;
#else
  At at;
  if (int e = open_parent(path, &at)) return e;
  // AT_SYMLINK_NOFOLLOW: a symlink swapped in for the file must not redirect the chmod.
  if (::fchmodat(at.fd, at.name.c_str(), static_cast<mode_t>(mode & 07777), AT_SYMLINK_NOFOLLOW) <
      0)
    return lx_errno();
  return 0;
#endif
}

int PosixFs::chown(const std::string& path, uint32_t uid, uint32_t gid) {
#if defined(__wasi__)
  (void)path;
  (void)uid;
  (void)gid;
  return kEOPNOTSUPP;
#else
  At at;
  if (int e = open_parent(path, &at)) return e;
  if (::fchownat(at.fd, at.name.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(gid),
                 AT_SYMLINK_NOFOLLOW) < 0)
    return lx_errno();
  return 0;
#endif
}

int PosixFs::truncate(const std::string& path, uint64_t size) {
  Handle h;
  if (int e = open(path, kO_WRONLY, &h)) return e;
  int e = ftruncate(h, size);
  close(h);
  return e;
}

int PosixFs::utimes(const std::string& path, const TimeSet& atime, const TimeSet& mtime) {
  At at;
  if (int e = open_parent(path, &at)) return e;
  struct timespec ts[2];
  const TimeSet* in[2] = {&atime, &mtime};
  for (int i = 0; i < 2; ++i) {
    ts[i].tv_sec = static_cast<time_t>(in[i]->value.sec);
    ts[i].tv_nsec = static_cast<long>(in[i]->value.nsec);
    if (in[i]->kind == TimeSet::kOmit) ts[i].tv_nsec = UTIME_OMIT;
    if (in[i]->kind == TimeSet::kNow) ts[i].tv_nsec = UTIME_NOW;
  }
#if defined(__wasi__)
  // The runtime may follow a symlink whatever the flags: set the times through a proven open
  // of the object instead; symlinks themselves keep their times.
  struct stat st;
  if (::fstatat(at.fd, at.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return lx_errno();
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return kEOPNOTSUPP;
  // node and WasmEdge both answer EINVAL to fd_filestat_set_times with *_NOW flags, while
  // explicit times work: read the clock here instead.
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  for (struct timespec& t : ts)
    if (t.tv_nsec == UTIME_NOW) t = now;
  int fd;
  if (int e = open_verified(at.fd, at.name.c_str(), S_ISDIR(st.st_mode) ? O_DIRECTORY : O_RDONLY,
                            st, &fd))
    return e;
  int r = ::futimens(fd, ts);
  int e = r < 0 ? lx_errno() : 0;
  ::close(fd);
  return e;
#else
  if (::utimensat(at.fd, at.name.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) return lx_errno();
  return 0;
#endif
}

int PosixFs::mkdir(const std::string& dir, const std::string& name, uint32_t mode) {
  At at;
  if (int e = open_dir(dir, &at)) return e;
  if (::mkdirat(at.fd, name.c_str(), static_cast<mode_t>(mode & 07777)) < 0) return lx_errno();
  return 0;
}

int PosixFs::symlink(const std::string& dir, const std::string& name, const std::string& target) {
  At at;
  if (int e = open_dir(dir, &at)) return e;
  if (::symlinkat(target.c_str(), at.fd, name.c_str()) < 0) return lx_errno();
  return 0;
}

int PosixFs::mknod(const std::string& dir, const std::string& name, uint32_t mode) {
  At at;
  if (int e = open_dir(dir, &at)) return e;
  mode_t perm = static_cast<mode_t>(mode & 07777);
  switch (mode & kS_IFMT) {
    case kS_IFREG: {
      int fd =
          ::openat(at.fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
      if (fd < 0) return lx_errno();
      ::close(fd);
      return 0;
    }
#if !defined(__wasi__)
    case kS_IFIFO:
      if (::mkfifoat(at.fd, name.c_str(), perm) < 0) return lx_errno();
      return 0;
    case kS_IFSOCK:
      if (::mknodat(at.fd, name.c_str(), S_IFSOCK | perm, 0) < 0) return lx_errno();
      return 0;
#endif
    case kS_IFCHR:
    case kS_IFBLK:
      return kEPERM;  // device nodes on the host would reach host hardware
    default:
      return kEPERM;
  }
}

int PosixFs::link(const std::string& existing, const std::string& dir, const std::string& name) {
  At from, to;
  if (int e = open_parent(existing, &from)) return e;
  if (int e = open_dir(dir, &to)) return e;
#if defined(__wasi__)
  // The runtime might link what a symlink names instead of the symlink: refuse those.
  struct stat st;
  if (::fstatat(from.fd, from.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return lx_errno();
  if (S_ISLNK(st.st_mode)) return kEPERM;
#endif
  // flags 0: link the object named, never what a symlink there points to.
  if (::linkat(from.fd, from.name.c_str(), to.fd, name.c_str(), 0) < 0) return lx_errno();
  return 0;
}

int PosixFs::readlink(const std::string& path, std::string* target) {
  At at;
  if (int e = open_parent(path, &at)) return e;
  char buf[kPathMax + 1];
  ssize_t n = ::readlinkat(at.fd, at.name.c_str(), buf, sizeof buf);
  if (n < 0) return lx_errno();
  if (static_cast<size_t>(n) >= sizeof buf) return kENAMETOOLONG;
  target->assign(buf, static_cast<size_t>(n));
  return 0;
}

int PosixFs::rename(const std::string& olddir, const std::string& oldname,
                    const std::string& newdir, const std::string& newname) {
  At from, to;
  if (int e = open_dir(olddir, &from)) return e;
  if (int e = open_dir(newdir, &to)) return e;
  if (::renameat(from.fd, oldname.c_str(), to.fd, newname.c_str()) < 0) return lx_errno();
  return 0;
}

int PosixFs::unlink(const std::string& dir, const std::string& name, bool is_dir) {
  At at;
  if (int e = open_dir(dir, &at)) return e;
  if (::unlinkat(at.fd, name.c_str(), is_dir ? AT_REMOVEDIR : 0) < 0) return lx_errno();
  return 0;
}

int PosixFs::statfs(FsStat* out) {
#if defined(__wasi__)
  *out = FsStat{};
  out->bsize = 4096;
  out->namelen = kNameMax;
  return 0;
#else
  struct statvfs s;
  if (::fstatvfs(root_, &s) < 0) return lx_errno();
  out->bsize = static_cast<uint32_t>(s.f_frsize ? s.f_frsize : s.f_bsize);
  out->blocks = s.f_blocks;
  out->bfree = s.f_bfree;
  out->bavail = s.f_bavail;
  out->files = s.f_files;
  out->ffree = s.f_ffree;
  out->fsid = s.f_fsid;
  out->namelen = static_cast<uint32_t>(s.f_namemax);
  return 0;
#endif
}

}  // namespace c2w::p9
