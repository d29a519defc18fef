// See posix_abi.h.
#include "emulators/p9/posix_abi.h"

#include <dirent.h>
#include <fcntl.h>

#include <cerrno>

#include "emulators/p9/linux_abi.h"

namespace c2w::p9 {
namespace {

uint32_t linux_type(mode_t m) {
  if (S_ISREG(m)) return kS_IFREG;
  if (S_ISDIR(m)) return kS_IFDIR;
  if (S_ISLNK(m)) return kS_IFLNK;
  if (S_ISCHR(m)) return kS_IFCHR;
  if (S_ISBLK(m)) return kS_IFBLK;
  if (S_ISFIFO(m)) return kS_IFIFO;
  if (S_ISSOCK(m)) return kS_IFSOCK;
  return 0;
}

}  // namespace

// Host errno -> Linux errno. glibc on Linux already uses the Linux numbers; wasi-libc does not.
int lx(int e) {
#if defined(__linux__)
  return e;
#else
  struct Pair {
    int host;
    int linux;
  };
  static const Pair kMap[] = {
      {EPERM, kEPERM},
      {ENOENT, kENOENT},
      {EIO, kEIO},
      {ENXIO, kENXIO},
      {EBADF, kEBADF},
      {EAGAIN, kEAGAIN},
      {ENOMEM, kENOMEM},
      {EACCES, kEACCES},
      {EBUSY, kEBUSY},
      {EEXIST, kEEXIST},
      {EXDEV, kEXDEV},
      {ENODEV, kENODEV},
      {ENOTDIR, kENOTDIR},
      {EISDIR, kEISDIR},
      {EINVAL, kEINVAL},
      {ENFILE, kENFILE},
      {EMFILE, kEMFILE},
      {ETXTBSY, kETXTBSY},
      {EFBIG, kEFBIG},
      {ENOSPC, kENOSPC},
      {ESPIPE, kESPIPE},
      {EROFS, kEROFS},
      {EMLINK, kEMLINK},
      {ERANGE, kERANGE},
      {ENAMETOOLONG, kENAMETOOLONG},
      {ENOLCK, kENOLCK},
      {ENOSYS, kENOSYS},
      {ENOTEMPTY, kENOTEMPTY},
      {ELOOP, kELOOP},
      {EOVERFLOW, kEOVERFLOW},
      {EILSEQ, kEILSEQ},
      {ENOTSUP, kEOPNOTSUPP},
      {ESTALE, kESTALE},
      {EDQUOT, kEDQUOT},
      {ENOBUFS, kENOBUFS},
#ifdef ENOTCAPABLE
      {ENOTCAPABLE, kEACCES},  // the runtime's sandbox said no
#endif
  };
  for (const Pair& p : kMap)
    if (p.host == e) return p.linux;
  return kEIO;
#endif
}

int lx_errno() {
  return lx(errno);
}

void to_attr(const struct stat& st, Attr* a) {
  uint32_t type = linux_type(st.st_mode);
  uint32_t perm = static_cast<uint32_t>(st.st_mode) & 07777;
#if defined(__wasi__)
  // WASI stat carries no permission bits; present what a guest needs to use the files.
  perm = type == kS_IFLNK ? 0777 : 0755;
#endif
  a->mode = type | perm;
  a->uid = static_cast<uint32_t>(st.st_uid);
  a->gid = static_cast<uint32_t>(st.st_gid);
  a->nlink = static_cast<uint64_t>(st.st_nlink);
  a->rdev = static_cast<uint64_t>(st.st_rdev);
  a->size = static_cast<uint64_t>(st.st_size);
  a->blksize = static_cast<uint64_t>(st.st_blksize);
  a->blocks = static_cast<uint64_t>(st.st_blocks);
  a->ino = static_cast<uint64_t>(st.st_ino);
  a->dev = static_cast<uint64_t>(st.st_dev);
  a->atime = {static_cast<int64_t>(st.st_atim.tv_sec), static_cast<uint32_t>(st.st_atim.tv_nsec)};
  a->mtime = {static_cast<int64_t>(st.st_mtim.tv_sec), static_cast<uint32_t>(st.st_mtim.tv_nsec)};
  a->ctime = {static_cast<int64_t>(st.st_ctim.tv_sec), static_cast<uint32_t>(st.st_ctim.tv_nsec)};
}

uint8_t linux_dtype(unsigned char t) {
  if (t == DT_DIR) return kDT_DIR;
  if (t == DT_REG) return kDT_REG;
  if (t == DT_LNK) return kDT_LNK;
  if (t == DT_CHR) return kDT_CHR;
  if (t == DT_BLK) return kDT_BLK;
  if (t == DT_FIFO) return kDT_FIFO;
#ifdef DT_SOCK
  if (t == DT_SOCK) return kDT_SOCK;
#endif
  return kDT_UNKNOWN;
}

int host_open_flags(uint32_t flags) {
  int f = O_RDONLY;
  if ((flags & kO_ACCMODE) == kO_WRONLY) f = O_WRONLY;
  if ((flags & kO_ACCMODE) == kO_RDWR) f = O_RDWR;
  if (flags & kO_TRUNC) f |= O_TRUNC;
  if ((flags & kO_SYNC) == kO_SYNC) {
    f |= O_SYNC;
  } else if (flags & kO_DSYNC) {
    f |= O_DSYNC;
  }
  return f;
}

}  // namespace c2w::p9
