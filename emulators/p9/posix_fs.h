// HostFs over POSIX *at() calls, for Linux/glibc and for wasi-libc (where the share root is a
// preopened directory and the runtime adds its own sandbox on top).
//
// Confinement: every operation starts at the share root's descriptor and opens each parent
// component with O_DIRECTORY|O_NOFOLLOW, then acts on the last component with the no-follow
// form of the call (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW, or calls that never follow such as
// unlinkat/renameat/readlinkat/mkdirat). Every open is also proven: the object opened must be
// the one lstat saw by name (device, inode, type), because some WASI runtimes (node's) follow
// symlinks in path_open whatever O_NOFOLLOW says. No multi-component path is ever handed to
// the host, so neither "..", nor a symlink planted in the share, nor a directory swapped for a
// symlink after the server looked at it can lead outside the share.
//
// What wasi-libc cannot do, and what we answer instead:
// - chmod, chown: WASI has neither -> EOPNOTSUPP (the server then keeps the guest's values).
// - mkfifo, mknod of sockets: no WASI call -> EPERM, as Linux answers for unsupported node types.
// - statvfs: none -> a result with the block size and name length but zero counts (unknown).
// - permission bits: WASI stat has none, so regular files and directories read as 0755.
// - utimensat/linkat might follow a symlink at the last component: times are set through a
//   proven open (symlinks' own times: EOPNOTSUPP), and hard links to symlinks are EPERM.
#pragma once

#include <dirent.h>

#include <memory>
#include <vector>

#include "emulators/p9/hostfs.h"

namespace c2w::p9 {

class PosixFs final : public HostFs {
 public:
  // Opens the directory root as the share. Returns 0 or a Linux errno.
  static int create_share(const char* root, std::unique_ptr<PosixFs>* out);
  ~PosixFs() override;
  PosixFs(const PosixFs&) = delete;
  PosixFs& operator=(const PosixFs&) = delete;

  int lstat(const std::string& path, Attr* out) override;
  int open(const std::string& path, uint32_t flags, Handle* out) override;
  int create(const std::string& dir, const std::string& name, uint32_t flags, uint32_t mode,
             Handle* out) override;
  void close(Handle h) override;
  int fstat(Handle h, Attr* out) override;
  int pread(Handle h, uint8_t* buf, size_t len, uint64_t off, size_t* got) override;
  int pwrite(Handle h, const uint8_t* buf, size_t len, uint64_t off, size_t* put) override;
  int fsync(Handle h, bool datasync) override;
  int ftruncate(Handle h, uint64_t size) override;
  int readdir(Handle h, uint64_t pos, DirEntry* out, bool* end) override;
  int chmod(const std::string& path, uint32_t mode) override;
  int chown(const std::string& path, uint32_t uid, uint32_t gid) override;
  int truncate(const std::string& path, uint64_t size) override;
  int utimes(const std::string& path, const TimeSet& atime, const TimeSet& mtime) override;
  int mkdir(const std::string& dir, const std::string& name, uint32_t mode) override;
  int symlink(const std::string& dir, const std::string& name, const std::string& target) override;
  int mknod(const std::string& dir, const std::string& name, uint32_t mode) override;
  int link(const std::string& existing, const std::string& dir, const std::string& name) override;
  int readlink(const std::string& path, std::string* target) override;
  int rename(const std::string& olddir, const std::string& oldname, const std::string& newdir,
             const std::string& newname) override;
  int unlink(const std::string& dir, const std::string& name, bool is_dir) override;
  int statfs(FsStat* out) override;

 private:
  // A directory descriptor reached from the root, plus the last path component to act on.
  struct At {
    int fd = -1;
    bool owned = false;
    std::string name;
    At() = default;
    At(const At&) = delete;
    At& operator=(const At&) = delete;
    ~At();
  };
  struct OpenFile {
    int fd = -1;
    DIR* dir = nullptr;  // set on first readdir; then owns fd
    uint64_t next = 0;   // position of the entry the DIR stream returns next
    bool has_peek = false;
    uint64_t peek_pos = 0;
    DirEntry peek;
  };

  explicit PosixFs(int root_fd) : root_(root_fd) {}
  int open_dir(const std::string& dir, At* at);
  int open_parent(const std::string& path, At* at);
  int open_last(const At& at, uint32_t flags, Handle* out);
  OpenFile* file(Handle h);
  Handle add(int fd);

  int root_;
  std::vector<OpenFile> files_;
};

}  // namespace c2w::p9
