// The boot op: inputs [0] a kernel Image blob (kernel), [1] an initramfs blob
// (rootfs). Boots them on the native emulator in a child process (`c2w __boot-vm`,
// runtime/boot.h) until guest init is ready and stores the machine snapshot as a
// blob. A guest that panics, stops or is not ready within the time limit fails the op with
// the tail of its console.
//
// Cache key: the op (memory, extra kernel arguments) and its inputs' contents, salted with the
// snapshot format and the runtime module's digest: the emulator that boots is the one that
// will restore, and the boot is reproducible (virtual clock), so the key names the snapshot.
#pragma once

#include <string>

#include "solver/op.h"

namespace c2w::boot {

inline constexpr const char* kOutputName = "snapshot.c2wsnap";

class BootOp : public solver::OpImpl {
 public:
  // `self` is the program that understands `__boot-vm` (c2w or c2wd: /proc/self/exe).
  explicit BootOp(std::string self, double timeout_s = 900)
      : self_(std::move(self)), timeout_s_(timeout_s) {}
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;
  std::string cache_salt(const v1::Op&) const override;

 private:
  std::string self_;
  double timeout_s_;
};

}  // namespace c2w::boot
