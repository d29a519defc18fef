// An OCI image layout directory (OCI image-layout spec): `oci-layout`, `index.json` and
// content-addressed `blobs/sha256/<hex>`. Blob writes are atomic (temp file + fsync + rename);
// blob reads verify the digest, so a corrupt blob is reported, never returned.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace c2w::oci {

namespace media_type {
inline constexpr std::string_view kImageIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kImageManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kImageConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
}  // namespace media_type

inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

// {"mediaType", "digest", "size"} as JSON.
nlohmann::json descriptor(std::string_view media_type, std::string_view digest, uint64_t size);

// Canonical JSON bytes for blobs we write: sorted keys, no whitespace (deterministic digests).
std::string canonical_json(const nlohmann::json& value);

class Layout {
 public:
  // Opens an existing layout; throws if `dir` is not one.
  static Layout open(const std::filesystem::path& dir);
  // Opens `dir`, creating an empty layout there first if needed.
  static Layout open_or_create(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path blob_path(std::string_view digest) const;
  bool has_blob(std::string_view digest) const;

  // Reads a blob and checks its sha256; throws on a missing or corrupt blob.
  std::string read_blob(std::string_view digest) const;
  nlohmann::json read_json_blob(std::string_view digest) const;
  // Stores `data`; returns its descriptor.
  nlohmann::json write_blob(std::string_view media_type, std::string_view data);
  // Moves an already written file into the store under `digest` (caller computed it).
  void adopt_blob_file(const std::filesystem::path& file, std::string_view digest);

  nlohmann::json index() const;
  // The manifests of index.json named `tag` by the ref.name annotation.
  std::optional<nlohmann::json> find_tag(std::string_view tag) const;
  // Points `tag` at `desc` in index.json, replacing an earlier descriptor with that tag.
  void set_tag(std::string_view tag, nlohmann::json desc);

 private:
  explicit Layout(std::filesystem::path dir) : dir_(std::move(dir)) {}
  void write_index(const nlohmann::json& index);
  std::filesystem::path dir_;
};

// Writes `data` to `path` atomically: a temp file beside it, fsync, rename.
void write_file_atomic(const std::filesystem::path& path, std::string_view data);

}  // namespace c2w::oci
