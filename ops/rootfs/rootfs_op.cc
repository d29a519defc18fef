#include "ops/rootfs/rootfs_op.h"

#include "base/error.h"
#include "distribution/image_source.h"
#include "oci/sha256.h"
#include "ops/rootfs/copies.h"
#include "ops/rootfs/image_config.h"
#include "ops/rootfs/initramfs.h"

namespace c2w::rootfs {

namespace fs = std::filesystem;

RootfsOp::RootfsOp(std::string_view init) : init_(init), init_digest_(oci::Sha256::of(init)) {}

std::string RootfsOp::cache_salt(const v1::Op&) const {
  return std::string(kLayoutVersion) + " init=" + init_digest_;
}

cache::Record RootfsOp::run(const v1::Op& op, solver::OpContext& ctx) {
  const v1::RootfsOp& spec = op.rootfs();
  if (ctx.inputs.size() < 2)
    throw Error("rootfs needs the unpacked rootfs and the fetched image as inputs");
  if (init_.empty()) throw Error("this c2w was built without a guest init binary", "rebuild c2w");

  distribution::Image image = distribution::Image::from_json(ctx.inputs[1].record.meta);
  nlohmann::json oci_config =
      nlohmann::json::parse(ctx.store.read_blob(image.config), nullptr, false);
  if (oci_config.is_discarded())
    throw Error("the image config " + image.config + " is not valid JSON");

  InitramfsSpec in;
  const fs::path& tree = ctx.inputs[0].path;
  in.rootfs = tree / "rootfs";
  std::vector<CopySource> copies;
  for (const auto& c : spec.copies()) {
    if (c.input() < 2 || c.input() >= ctx.inputs.size())
      throw Error("COPY " + c.src() + " names input " + std::to_string(c.input()) +
                  ", which this op does not have");
    copies.push_back({ctx.inputs[c.input()].path, c.src(), c.dst()});
  }
  try {
    Overlay overlay = apply_copies(ownership::read_metadata(tree / "metadata.jsonl"), copies);
    in.manifest = std::move(overlay.manifest);
    in.files = std::move(overlay.files);
    in.config = merge_image_config(oci_config, spec);
  } catch (const std::runtime_error& e) {
    throw Error(std::string("bad input for the initramfs: ") + e.what());
  }
  in.init = init_;

  cache::BlobWriter blob = ctx.store.write_blob();
  InitramfsStats stats;
  try {
    stats = write_initramfs(
        in, [&](const void* p, size_t n) { blob.write(p, n); },
        [&](size_t done, size_t total) {
          ctx.cancel.throw_if_cancelled();
          if (done % 256 == 0)
            ctx.progress.counter("rootfs", "writing the initramfs", static_cast<int64_t>(done),
                                 static_cast<int64_t>(total));
        });
  } catch (const Error&) {  // cancellation included
    throw;
  } catch (const std::runtime_error& e) {
    throw Error(std::string("cannot write the initramfs: ") + e.what());
  }
  std::string digest = blob.commit();
  ctx.progress.log(std::to_string(stats.entries) + " entries, " + std::to_string(stats.cpio_bytes) +
                   " bytes of cpio, " + std::to_string(stats.compressed_bytes) + " compressed");

  cache::Record record;
  record.kind = cache::Record::Kind::kBlob;
  record.content = digest;
  record.size = stats.compressed_bytes;
  record.meta = {{"filename", kOutputName},
                 {"layout", kLayoutVersion},
                 {"init", init_digest_},
                 {"entries", stats.entries},
                 {"cpio_bytes", stats.cpio_bytes},
                 {"entrypoint", in.config.entrypoint},
                 {"cmd", in.config.cmd},
                 {"env", in.config.env},
                 {"working_dir", in.config.working_dir},
                 {"user", in.config.user}};
  return record;
}

}  // namespace c2w::rootfs
