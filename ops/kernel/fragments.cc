#include "ops/kernel/fragments.h"

#include "base/embed.h"

C2W_EMBED(c2w_kernel_riscv64_config, C2W_KERNEL_FRAGMENTS_DIR "/riscv64.config");

namespace c2w::kernel {

std::map<std::string, std::string> embedded_fragments() {
  return {{"kernel/riscv64.config", std::string(C2W_EMBEDDED(c2w_kernel_riscv64_config))}};
}

}  // namespace c2w::kernel
