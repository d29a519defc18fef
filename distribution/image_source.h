// Brings an image into the store from where its reference points: a registry, an OCI layout
// directory or a `docker save` archive. Image indexes are resolved to the requested platform;
// every blob is checked against its sha256 before it is kept. The result names the image by
// its manifest digest, so two references to the same content give the same result.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "cache/store.h"
#include "distribution/registry_client.h"
#include "oci/reference.h"

namespace c2w::distribution {

struct Platform {
  std::string os = "linux";
  std::string architecture = "riscv64";
  std::string variant;
  static Platform parse(const std::string& text);  // "os/arch[/variant]"
  std::string str() const;
};

// The fetched image: manifest, config and layer descriptors, all in the store.
struct Image {
  std::string ref;                                  // canonical reference text
  std::string manifest;                             // digest of the (OCI or Docker) manifest blob
  std::string config;                               // digest of the config blob
  nlohmann::json layers = nlohmann::json::array();  // [{mediaType, digest, size}]
  Platform platform;
  bool downloaded = false;  // some blob was not in the store yet

  nlohmann::json to_json() const;
  static Image from_json(const nlohmann::json& j);
};

struct FetchHooks {
  std::function<bool()> cancelled;
  // (id, name, done, total) for byte counters of blob transfers.
  std::function<void(const std::string&, const std::string&, uint64_t, uint64_t)> progress;
  std::function<void(const std::string&)> log;
};

// The image a remote client read from its own machine (an OCI layout or a docker archive) and
// uploaded: `manifest` and the blobs it names are in `store`. Checked like any other source
// (platform, config, every descriptor); a blob that is missing is an error naming it.
Image resolve_uploaded_image(const std::string& ref_text, const std::string& manifest,
                             const Platform& platform, cache::Store& store);

Image fetch_image(const oci::Reference& ref, const Platform& platform,
                  const RegistryOptions& options, cache::Store& store, const FetchHooks& hooks);

}  // namespace c2w::distribution
