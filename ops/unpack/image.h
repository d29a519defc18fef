// The layers of an image stored in an OCI image layout, found by tag: index.json -> (image
// index -> platform) -> manifest -> layer blobs, with the config's diff_ids attached so
// unpack_layers checks them. Manifest, index and config are read through Layout, which verifies
// their digests; layer blobs are verified while they are unpacked.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "oci/layout.h"
#include "ops/unpack/unpack.h"

namespace c2w::unpack {

struct ImageLayers {
  std::string manifest_digest;
  nlohmann::json manifest;
  nlohmann::json config;
  std::vector<LayerBlob> layers;
};

// `platform` ("os/arch" or "os/arch/variant") picks a manifest when the tag names an image
// index; it may be empty when the tag names a manifest or an index with a single manifest.
// Throws std::runtime_error saying what is missing or inconsistent.
ImageLayers load_image_layers(const oci::Layout& layout, std::string_view tag,
                              std::string_view platform = "");

}  // namespace c2w::unpack
