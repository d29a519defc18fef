#include "ops/unpack/image.h"

#include <optional>
#include <stdexcept>

namespace c2w::unpack {

using nlohmann::json;

namespace {

constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr std::string_view kDockerList =
    "application/vnd.docker.distribution.manifest.list.v2+json";

std::string platform_of(const json& desc) {
  if (!desc.contains("platform")) return "";
  const json& p = desc["platform"];
  std::string s = p.value("os", "") + "/" + p.value("architecture", "");
  if (p.contains("variant")) s += "/" + p["variant"].get<std::string>();
  return s;
}

json pick_manifest(const json& index, std::string_view platform, std::string_view tag) {
  const json& manifests = index.at("manifests");
  std::string seen;
  for (const json& m : manifests) {
    std::string p = platform_of(m);
    // "linux/arm64" also matches a manifest for "linux/arm64/v8".
    if (!platform.empty() && (p == platform || p.rfind(std::string(platform) + "/", 0) == 0))
      return m;
    seen += (seen.empty() ? "" : ", ") + (p.empty() ? "(no platform)" : p);
  }
  if (platform.empty() && manifests.size() == 1) return manifests[0];
  throw std::runtime_error("tag " + std::string(tag) + " is an image index with platforms [" +
                           seen + "]; " +
                           (platform.empty() ? "choose one" : "none is " + std::string(platform)));
}

}  // namespace

ImageLayers load_image_layers(const oci::Layout& layout, std::string_view tag,
                              std::string_view platform) {
  std::optional<json> desc = layout.find_tag(tag);
  if (!desc)
    throw std::runtime_error("no tag '" + std::string(tag) + "' in " + layout.dir().string());
  // Nested indexes are allowed by the spec; a few levels are plenty for real images.
  for (int depth = 0; depth < 4; ++depth) {
    std::string type = desc->value("mediaType", "");
    if (type != oci::media_type::kImageIndex && type != kDockerList) break;
    json index = layout.read_json_blob(desc->at("digest").get<std::string>());
    desc = pick_manifest(index, platform, tag);
  }
  ImageLayers image;
  image.manifest_digest = desc->at("digest").get<std::string>();
  image.manifest = layout.read_json_blob(image.manifest_digest);
  std::string type = image.manifest.value("mediaType", desc->value("mediaType", ""));
  if (type != oci::media_type::kImageManifest && type != kDockerManifest)
    throw std::runtime_error("tag " + std::string(tag) + " names a " + type +
                             ", not an image manifest");
  image.config = layout.read_json_blob(image.manifest.at("config").at("digest").get<std::string>());
  const json& layers = image.manifest.at("layers");
  json diff_ids = image.config.contains("rootfs")
                      ? image.config["rootfs"].value("diff_ids", json::array())
                      : json::array();
  if (diff_ids.size() != layers.size())
    throw std::runtime_error("image " + image.manifest_digest + " has " +
                             std::to_string(layers.size()) + " layers but its config lists " +
                             std::to_string(diff_ids.size()) + " diff_ids");
  for (size_t i = 0; i < layers.size(); ++i) {
    LayerBlob blob;
    blob.digest = layers[i].at("digest").get<std::string>();
    blob.media_type = layers[i].value("mediaType", "");
    blob.file = layout.blob_path(blob.digest);
    blob.diff_id = diff_ids[i].get<std::string>();
    image.layers.push_back(std::move(blob));
  }
  return image;
}

}  // namespace c2w::unpack
