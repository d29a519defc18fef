#include "ops/shipped.h"

#include <filesystem>

#include "kernel/init/embedded_init.h"
#include "ops/assemble-rootfs/assemble_op.h"
#include "ops/build_kernel/build_kernel_op.h"
#include "ops/fetch/fetch_op.h"
#include "ops/local/local_op.h"
#include "ops/pack/pack_op.h"
#include "ops/snapshot-boot/snapshot_boot_op.h"
#include "ops/source/source_op.h"
#include "ops/unpack/unpack_op.h"

namespace c2w::ops {

namespace {

solver::OpRegistry ops_for(const fetch::RegistryOptions& registry, bool in_process,
                           const std::filesystem::path& context) {
  solver::OpRegistry ops;
  ops.add(v1::Op::kFetch, "fetch", std::make_shared<fetch::FetchOp>(registry, in_process));
  ops.add(v1::Op::kUnpack, "unpack", std::make_shared<unpack::UnpackOp>());
  ops.add(v1::Op::kSource, "source", std::make_shared<source::SourceOp>());
  ops.add(v1::Op::kBuildKernel, "build-kernel", std::make_shared<kernel::BuildKernelOp>());
  ops.add(v1::Op::kAssembleRootfs, "assemble-rootfs",
          std::make_shared<assemble::AssembleRootfsOp>(guest::embedded_init()));
  // snapshot-boot runs `<this program> __boot-vm` (c2w and c2wd both answer it).
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  ops.add(v1::Op::kSnapshotBoot, "snapshot-boot",
          std::make_shared<snapshot::SnapshotBootOp>(ec ? "c2w" : self.string()));
  ops.add(v1::Op::kPack, "pack", std::make_shared<pack::PackOp>());
  ops.add(v1::Op::kLocal, "local", std::make_shared<local::LocalOp>(context));
  return ops;
}

}  // namespace

solver::OpRegistry shipped_ops(const fetch::RegistryOptions& registry,
                               const std::filesystem::path& context) {
  return ops_for(registry, true, context);
}

solver::OpRegistry builder_ops(const fetch::RegistryOptions& registry) {
  return ops_for(registry, false, {});
}

}  // namespace c2w::ops
