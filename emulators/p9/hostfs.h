// The host filesystem as the 9P server sees it: one share, addressed by share-relative paths.
//
// Contract every implementation keeps:
// - A path is "" (the share root) or components joined by '/', each already checked by the
//   server: non-empty, at most kNameMax bytes, no '/', no NUL, never "." or "..".
// - No operation follows a symbolic link on the host, neither in a parent component nor in the
//   last one: a symlink is an object the guest reads with readlink and resolves itself. So a
//   path can never reach outside the share, even if the share changes under the server.
// - Errors are returned as Linux errno values (linux_abi.h), 0 on success; nothing throws.
// - open() hands back only regular files and directories; fifos, sockets and devices on the
//   host are never opened (the guest kernel implements those nodes itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace c2w::p9 {

using Handle = int32_t;  // an open file or directory; valid only in the HostFs that made it

struct Timespec {
  int64_t sec = 0;
  uint32_t nsec = 0;
};

struct Attr {
  uint32_t mode = 0;  // Linux type bits | permission bits
  uint32_t uid = 0, gid = 0;
  uint64_t nlink = 0, rdev = 0, size = 0, blksize = 0, blocks = 0;
  uint64_t ino = 0, dev = 0;
  Timespec atime, mtime, ctime;
};

struct DirEntry {
  uint64_t ino = 0;
  uint8_t type = 0;  // Linux DT_* value
  std::string name;
};

struct FsStat {
  uint32_t bsize = 0, namelen = 0;
  uint64_t blocks = 0, bfree = 0, bavail = 0, files = 0, ffree = 0, fsid = 0;
};

// How Tsetattr wants a timestamp changed.
struct TimeSet {
  enum Kind : uint8_t { kOmit, kNow, kValue } kind = kOmit;
  Timespec value;
};

class HostFs {
 public:
  virtual ~HostFs() = default;

  // Attributes of the object at path itself (a symlink is reported as a symlink).
  virtual int lstat(const std::string& path, Attr* out) = 0;

  // Opens an existing regular file or directory. flags: Linux access mode, kO_TRUNC, kO_SYNC,
  // kO_DSYNC; other bits are ignored. Writes always go to the offset given, never appended.
  virtual int open(const std::string& path, uint32_t flags, Handle* out) = 0;
  // Creates (exclusively if kO_EXCL is set) and opens a regular file dir/name.
  virtual int create(const std::string& dir, const std::string& name, uint32_t flags, uint32_t mode,
                     Handle* out) = 0;
  virtual void close(Handle h) = 0;

  virtual int fstat(Handle h, Attr* out) = 0;
  virtual int pread(Handle h, uint8_t* buf, size_t len, uint64_t off, size_t* got) = 0;
  virtual int pwrite(Handle h, const uint8_t* buf, size_t len, uint64_t off, size_t* put) = 0;
  virtual int fsync(Handle h, bool datasync) = 0;
  virtual int ftruncate(Handle h, uint64_t size) = 0;
  // The entry at position pos (0 = first) of an open directory; *end = true past the last one.
  // Reading pos, then pos again returns the same entry; reading pos + 1 after pos is cheap.
  virtual int readdir(Handle h, uint64_t pos, DirEntry* out, bool* end) = 0;

  virtual int chmod(const std::string& path, uint32_t mode) = 0;
  // uid/gid of 0xffffffff leave that id unchanged.
  virtual int chown(const std::string& path, uint32_t uid, uint32_t gid) = 0;
  virtual int truncate(const std::string& path, uint64_t size) = 0;
  virtual int utimes(const std::string& path, const TimeSet& atime, const TimeSet& mtime) = 0;

  virtual int mkdir(const std::string& dir, const std::string& name, uint32_t mode) = 0;
  virtual int symlink(const std::string& dir, const std::string& name,
                      const std::string& target) = 0;
  // mode carries the file type: fifos, sockets and regular files only; devices are EPERM.
  virtual int mknod(const std::string& dir, const std::string& name, uint32_t mode) = 0;
  // Makes dir/name another name of the (non-directory) object at existing.
  virtual int link(const std::string& existing, const std::string& dir,
                   const std::string& name) = 0;
  virtual int readlink(const std::string& path, std::string* target) = 0;
  virtual int rename(const std::string& olddir, const std::string& oldname,
                     const std::string& newdir, const std::string& newname) = 0;
  virtual int unlink(const std::string& dir, const std::string& name, bool is_dir) = 0;
  virtual int statfs(FsStat* out) = 0;
};

}  // namespace c2w::p9
