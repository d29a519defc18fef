#include "ops/fetch/fetch_op.h"

#include "ops/fetch/image_source.h"

namespace c2w::fetch {

cache::Record FetchOp::run(const v1::Op& op, solver::OpContext& ctx) {
  oci::Reference ref = oci::parse_reference(op.fetch().ref());
  Platform platform =
      Platform::parse(op.fetch().platform().empty() ? "linux/riscv64" : op.fetch().platform());
  FetchHooks hooks;
  hooks.cancelled = [&] { return ctx.cancel.cancelled(); };
  hooks.progress = [&](const std::string& id, const std::string& name, uint64_t done,
                       uint64_t total) {
    ctx.progress.counter(id, name, static_cast<int64_t>(done), static_cast<int64_t>(total));
  };
  hooks.log = [&](const std::string& line) { ctx.progress.log(line); };
  Image image = fetch_image(ref, platform, options_, ctx.store, hooks);
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
