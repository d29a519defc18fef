#include "ops/fetch/fetch_op.h"

#include "base/error.h"
#include "distribution/image_source.h"

namespace c2w::fetch {

cache::Record FetchOp::run(const v1::Op& op, solver::OpContext& ctx) {
  oci::Reference ref = oci::parse_reference(op.fetch().ref());
  distribution::Platform platform = distribution::Platform::parse(
      op.fetch().platform().empty() ? "linux/riscv64" : op.fetch().platform());
  distribution::FetchHooks hooks;
  hooks.cancelled = [&] { return ctx.cancel.cancelled(); };
  hooks.progress = [&](const std::string& id, const std::string& name, uint64_t done,
                       uint64_t total) {
    ctx.progress.counter(id, name, static_cast<int64_t>(done), static_cast<int64_t>(total));
  };
  hooks.log = [&](const std::string& line) { ctx.progress.log(line); };
  distribution::Image image;
  if (ref.kind == oci::Reference::Kind::kRegistry || local_paths_) {
    image = distribution::fetch_image(ref, platform, options_, ctx.store, hooks);
  } else {
    const std::string key =
        solver::ClientUploads::image_key(op.fetch().ref(), op.fetch().platform());
    const std::string* manifest = nullptr;
    if (ctx.uploads)
      if (auto it = ctx.uploads->images.find(key); it != ctx.uploads->images.end())
        manifest = &it->second;
    if (!manifest)
      throw Error("image " + op.fetch().ref() +
                      " is on the client's machine, and the client "
                      "did not send it",
                  "c2w --builder uploads local images itself; an older client cannot, so "
                  "push the image to a registry the builder can reach");
    image = distribution::resolve_uploaded_image(ref.str(), *manifest, platform, ctx.store);
    ctx.progress.log("image " + ref.str() + " from the client's upload (" + *manifest + ")");
  }
  ctx.reused = !image.downloaded;
  cache::Record record;
  record.kind = cache::Record::Kind::kBlob;
  record.content = image.manifest;
  record.meta = image.to_json();
  uint64_t size = 0;
  for (const auto& l : image.layers) size += l.value("size", uint64_t{0});
  record.size = size;
  return record;
}

}  // namespace c2w::fetch
