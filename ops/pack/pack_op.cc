#include "ops/pack/pack_op.h"

#include <fstream>
#include <iterator>
#include <vector>

#include "base/error.h"
#include "ops/pack/pack_module.h"
#include "runtime/embedded_runtime.h"

namespace c2w::pack {

std::string PackOp::cache_salt(const v1::Op&) const {
  return std::string(kPackLayout) + " runtime=" + runtime::embedded_runtime_digest();
}

cache::Record PackOp::run(const v1::Op& op, solver::OpContext& ctx) {
  if (ctx.inputs.size() != 1) throw Error("pack needs one input: the boot snapshot");
  std::ifstream in(ctx.inputs[0].path, std::ios::binary);
  const std::vector<uint8_t> snapshot{std::istreambuf_iterator<char>(in), {}};
  if (in.bad() || snapshot.empty())
    throw Error("cannot read the boot snapshot " + ctx.inputs[0].path.string());
  const std::string_view rt = runtime::embedded_runtime();
  PackResult result;
  std::string error;
  if (!pack({reinterpret_cast<const uint8_t*>(rt.data()), rt.size()}, snapshot, PackOptions{},
            &result, &error))
    throw Error("pack: " + error, "the snapshot or the runtime is damaged; run with --no-cache");
  const PackReport& r = result.report;
  ctx.progress.log(std::to_string(r.pages_stored) + " guest pages (" +
                   std::to_string(r.page_bytes >> 20) + " MiB) in " +
                   std::to_string(r.segments_added) + " data segments; memory " +
                   std::to_string(r.memory_pages_after * 64 / 1024) + " MiB");
  cache::BlobWriter w = ctx.store.write_blob();
  w.write(result.wasm.data(), result.wasm.size());
  cache::Record rec;
  rec.kind = cache::Record::Kind::kBlob;
  rec.size = result.wasm.size();
  rec.content = w.commit();
  // TARGET browser packs the same module; the client writes the page and scripts around it
  // when it exports the result (client/browser.h), so c2wd and the cache need nothing more.
  rec.meta = {{"filename", "out.wasm"},
              {"target", op.pack().target() == v1::PackOp::TARGET_BROWSER ? "browser" : "wasi"},
              {"runtime", runtime::embedded_runtime_digest()},
              {"pages", r.pages_stored},
              {"segments", r.segments_added},
              {"memory_pages", r.memory_pages_after}};
  return rec;
}

}  // namespace c2w::pack
