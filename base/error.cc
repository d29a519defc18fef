#include "base/error.h"

#include <cerrno>
#include <cstring>

namespace c2w {

Error system_error(const std::string& what, int err) {
  std::string hint;
  if (err == ENOSPC || err == EDQUOT)
    hint =
        "the disk is full: free space, or run `c2w prune --keep-storage SIZE` to shrink the cache";
  else if (err == EACCES || err == EPERM)
    hint = "check the permissions of that path, or choose another one with --cache-dir";
  return Error(what + ": " + std::strerror(err), std::move(hint));
}

}  // namespace c2w
