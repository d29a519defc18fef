// The kernel op: cross-compiles Linux from a source tarball (input 0, a source-op blob)
// with tinyconfig + the op's config fragment, and stores the kernel Image as a blob.
// Cache key: source content + fragment text (both in the key already) + the cross
// toolchain's version (the salt); nothing else, so a machine builds a kernel once.
// The build runs in a scratch dir in the store, shows its log tail as progress, checks that
// every option of the fragment took effect (a typo or an unmet dependency is an error that
// names the options), and on failure reports the last lines of the log.
#pragma once

#include <string>
#include <vector>

#include "solver/op.h"

namespace c2w::kernel {

class KernelOp : public solver::OpImpl {
 public:
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;
  std::string cache_salt(const v1::Op& op) const override;
};

// Fragment options that the final .config does not have as requested: "CONFIG_X=y (got n)".
std::vector<std::string> unmet_options(const std::string& fragment, const std::string& dot_config);

// The kernel's ARCH= and the cross compiler prefix for a c2w target arch.
struct Toolchain {
  std::string kernel_arch;   // riscv
  std::string cross_prefix;  // riscv64-linux-gnu-
  std::string image_path;    // arch/riscv/boot/Image, relative to the source tree
};
Toolchain toolchain_for(const std::string& arch);

}  // namespace c2w::kernel
