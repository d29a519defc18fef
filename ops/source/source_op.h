// The source op: a file the engine gets itself, today the kernel source tarball.
//   debian:NAME[=VERSION]  the payload tarball of Debian package NAME (e.g. linux-source-6.1):
//                          taken from /usr/src when the package is installed (in that
//                          version, if pinned), else downloaded with `apt-get download` (apt
//                          checks it against the signed archive) and unpacked with dpkg-deb
//   http(s)://URL + SHA256 downloaded and checked against the pinned digest
// Volatile (the outside world may change) but named by content (sha256), so an unchanged
// tarball hits the cache downstream. Hashing a local tarball is remembered by its stat data.
#pragma once

#include "solver/op.h"

namespace c2w::source {

class SourceOp : public solver::OpImpl {
 public:
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;
  bool is_volatile(const v1::Op&) const override { return true; }
};

}  // namespace c2w::source
