// Translation between the host's C library and the Linux ABI the 9P client speaks: errno
// values, stat results, directory entry types and open flags. On Linux/glibc most of it is the
// identity; on wasi-libc the numbers differ, and WASI's stat has no permission bits.
#pragma once

#include <sys/stat.h>

#include <cstdint>

#include "emulators/p9/hostfs.h"

namespace c2w::p9 {

// Host errno value -> Linux errno value (kEIO for anything without a Linux counterpart).
int lx(int host_errno);
// lx(errno).
int lx_errno();
// Host stat -> Attr with Linux mode bits.
void to_attr(const struct stat& st, Attr* a);
// Host dirent d_type -> Linux DT_* value.
uint8_t linux_dtype(unsigned char host_type);
// Linux access mode, O_TRUNC, O_SYNC/O_DSYNC -> host open flags (nothing else is passed on).
int host_open_flags(uint32_t linux_flags);

}  // namespace c2w::p9
