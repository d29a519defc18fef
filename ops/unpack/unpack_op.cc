#include "ops/unpack/unpack_op.h"

#include "base/error.h"
#include "distribution/image_source.h"
#include "ops/unpack/unpack.h"

namespace c2w::unpack {

namespace fs = std::filesystem;

cache::Record UnpackOp::run(const v1::Op&, solver::OpContext& ctx) {
  if (ctx.inputs.size() != 1) throw Error("unpack needs exactly one input: the fetched image");
  distribution::Image image = distribution::Image::from_json(ctx.inputs[0].record.meta);
  nlohmann::json config = nlohmann::json::parse(ctx.store.read_blob(image.config), nullptr, false);
  if (config.is_discarded()) throw Error("the image config " + image.config + " is not valid JSON");
  nlohmann::json diff_ids = config.contains("rootfs")
                                ? config["rootfs"].value("diff_ids", nlohmann::json::array())
                                : nlohmann::json::array();
  if (diff_ids.size() != image.layers.size())
    throw Error("image " + image.ref + " lists " + std::to_string(image.layers.size()) +
                    " layers but its config has " + std::to_string(diff_ids.size()) + " diff_ids",
                "the image is malformed; rebuild or re-push it");

  std::vector<LayerBlob> layers;
  uint64_t total = 0;
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const auto& l = image.layers[i];
    std::string digest = l["digest"];
    auto path = ctx.store.blob(digest);
    if (!path)
      throw Error("layer " + digest + " is missing from the cache or corrupt",
                  "run the build again to refetch it");
    layers.push_back({*path, l.value("mediaType", ""), digest, diff_ids[i].get<std::string>()});
    total += l.value("size", uint64_t{0});
  }

  fs::path staged = ctx.store.stage_tree();
  UnpackOptions options;
  uint64_t before = 0;
  std::vector<uint64_t> done(layers.size(), 0);
  options.progress = [&](size_t layer, uint64_t read, uint64_t) {
    ctx.cancel.throw_if_cancelled();  // unpack_layers removes its work on any exception
    done[layer] = read;
    before = 0;
    for (uint64_t d : done) before += d;
    ctx.progress.counter("unpack", "unpacking " + std::to_string(layers.size()) + " layers",
                         static_cast<int64_t>(before), static_cast<int64_t>(total));
  };
  UnpackResult result;
  try {
    result = unpack_layers(layers, staged / "image", options);
  } catch (const UnpackError& e) {
    fs::remove_all(staged);
    throw Error(e.what());
  } catch (...) {
    fs::remove_all(staged);
    throw;
  }
  for (const LayerStats& s : result.layers)
    ctx.progress.log(s.digest.substr(0, 19) + " " + s.compression + " " +
                     std::to_string(s.uncompressed_bytes) + " bytes, " + std::to_string(s.entries) +
                     " entries");
  fs::path tree = ctx.store.commit_tree(staged / "image", result.chain_id);
  fs::remove_all(staged);
  cache::Record record;
  record.kind = cache::Record::Kind::kTree;
  record.content = result.chain_id;
  record.size = cache::disk_size(tree);
  record.meta = {{"image", image.to_json()}, {"entries", result.entries}};
  return record;
}

}  // namespace c2w::unpack
