// The rootfs op: inputs [0] an unpack result (tree: rootfs/ + metadata.jsonl),
// [1] the fetch result (its config blob gives the image config), then COPY sources. Output:
// the initramfs blob (initramfs.h) with the guest init and the merged image config.
//
// Cache key: the graph does not carry the init binary, so the op salts the solver's key with
// the layout version and the init's sha256 (OpImpl::cache_salt): a c2w with another init
// misses results made with the old one. The record's meta names both, plus the file name
// `--output type=local` gives the blob.
#pragma once

#include <string>
#include <string_view>

#include "solver/op.h"

namespace c2w::rootfs {

inline constexpr std::string_view kLayoutVersion = "c2w-initramfs-v1";
inline constexpr std::string_view kOutputName = "rootfs.cpio.zst";

class RootfsOp : public solver::OpImpl {
 public:
  // `init` must outlive the op (e.g. init::embedded_init()).
  explicit RootfsOp(std::string_view init);
  cache::Record run(const v1::Op& op, solver::OpContext& ctx) override;
  std::string cache_salt(const v1::Op&) const override;

 private:
  std::string_view init_;
  std::string init_digest_;
};

}  // namespace c2w::rootfs
