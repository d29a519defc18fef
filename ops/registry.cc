#include "ops/registry.h"

#include <filesystem>

#include "init/embedded_init.h"
#include "ops/boot/boot_op.h"
#include "ops/fetch/fetch_op.h"
#include "ops/kernel/kernel_op.h"
#include "ops/local/local_op.h"
#include "ops/pack/pack_op.h"
#include "ops/rootfs/rootfs_op.h"
#include "ops/source/source_op.h"
#include "ops/unpack/unpack_op.h"

namespace c2w::ops {

namespace {

solver::OpRegistry ops_for(const distribution::RegistryOptions& registry, bool in_process,
                           const std::filesystem::path& context) {
  solver::OpRegistry ops;
  ops.add(v1::Op::kFetch, std::make_shared<fetch::FetchOp>(registry, in_process));
  ops.add(v1::Op::kUnpack, std::make_shared<unpack::UnpackOp>());
  ops.add(v1::Op::kSource, std::make_shared<source::SourceOp>());
  ops.add(v1::Op::kKernel, std::make_shared<kernel::KernelOp>());
  ops.add(v1::Op::kRootfs, std::make_shared<rootfs::RootfsOp>(init::embedded_init()));
  // boot runs `<this program> __boot-vm` (c2w and c2wd both answer it).
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  ops.add(v1::Op::kBoot, std::make_shared<boot::BootOp>(ec ? "c2w" : self.string()));
  ops.add(v1::Op::kPack, std::make_shared<pack::PackOp>());
  ops.add(v1::Op::kLocal, std::make_shared<local::LocalOp>(context));
  return ops;
}

}  // namespace

solver::OpRegistry shipped_ops(const distribution::RegistryOptions& registry,
                               const std::filesystem::path& context) {
  return ops_for(registry, true, context);
}

solver::OpRegistry builder_ops(const distribution::RegistryOptions& registry) {
  return ops_for(registry, false, {});
}

}  // namespace c2w::ops
