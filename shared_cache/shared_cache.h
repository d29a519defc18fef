// The shared cache (docs/DESIGN.md "The engine"): `--cache-to` exports the action records of a
// solve and the blobs they name as one OCI artifact; `--cache-from` imports it so that another
// machine (or an empty cache) gets CACHED vertices instead of running them. `--output
// type=registry` pushes a file result as an OCI artifact too.
//
// The cache artifact is an OCI image manifest:
//   artifactType  application/vnd.c2w.cache.v1
//   config        application/vnd.c2w.cache.config.v1+json:
//                   {"version": 1, "records": {KEY: {"kind", "content", "size", "meta",
//                    "description"}}}
//   layers        application/vnd.c2w.cache.blob.v1, one per blob: the blob results, and
//                 blobs the meta of a blob record names (e.g. a kernel's .config)
// Trees (e.g. an unpacked rootfs) are not exported, only their records: a tree is derived from
// blobs that are themselves cached (an image's layers), it is often large, and a tar of it
// would not be byte-stable across file systems. An imported tree record still counts as a hit
// — its id feeds the keys downstream, so the steps after it hit too — and when a step that
// must run needs the tree itself, the step that makes it runs again.
//
// Import is lazy: the manifest and config are read once before the solve, and a blob is
// pulled only when a vertex needs the content (the final result, or the input of a vertex
// that runs). Every blob is checked against its sha256 on the way in; one that does not match
// is refused with a message naming it and the vertex runs instead. Records are validated
// before use: keys and contents must be well-formed digests, a blob record's content must be a
// layer of the manifest with the same size.
//
// Where artifacts live:  type=registry,ref=HOST/REPO:TAG   a registry repository (push needs
//                        write access; --insecure-registry, --registry-ca, --creds apply)
//                        type=local,dest=DIR / src=DIR      an OCI layout directory (tag
//                                                           "latest" unless tag=NAME is given)
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cache/store.h"
#include "distribution/registry_client.h"
#include "solver/op.h"

namespace c2w::shared_cache {

inline constexpr const char* kCacheArtifactType = "application/vnd.c2w.cache.v1";
inline constexpr const char* kCacheConfigType = "application/vnd.c2w.cache.config.v1+json";
inline constexpr const char* kCacheBlobType = "application/vnd.c2w.cache.blob.v1";
inline constexpr const char* kResultArtifactType = "application/vnd.c2w.result.v1";

// Where an artifact is read from or written to, from `type=registry,ref=...` or
// `type=local,dest=DIR` (src=DIR for imports).
struct ArtifactLocation {
  std::string type;  // "registry" or "local"
  std::string ref;   // registry
  std::string dir;   // local
  std::string tag;   // local: the ref.name in index.json ("latest")
  std::string str() const;
};

// One repository of a registry or one OCI layout, seen as a place for blobs and a manifest.
class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // The manifest under the location's tag; nullopt when there is none.
  virtual std::optional<std::string> get_manifest() = 0;
  // Downloads a blob into `writer` and commits it (the writer checks the digest).
  virtual void get_blob(const std::string& digest, uint64_t size, cache::BlobWriter& writer) = 0;
  // Uploads the file `path` whose sha256 is `digest` (skipped when already there).
  virtual void put_blob(const std::string& digest, const std::filesystem::path& path) = 0;
  // Stores `bytes` as the manifest under the location's tag; returns its digest.
  virtual std::string put_manifest(const std::string& bytes) = 0;
  virtual std::string describe() const = 0;
};

std::unique_ptr<ArtifactStore> open_artifact_store(const ArtifactLocation& location,
                                                   const distribution::RegistryOptions& registry,
                                                   std::function<bool()> cancelled);

struct CacheExportSummary {
  size_t records = 0;
  size_t blobs = 0;
  uint64_t bytes = 0;
  std::string manifest_digest;
};

// Exports `records` (key -> record, from SolveResult::records) and the blobs they name that
// are in `store`. Records whose blob is not local (e.g. a lazy import never pulled) are left
// out.
CacheExportSummary export_cache(const std::map<std::string, cache::Record>& records,
                                cache::Store& store, ArtifactStore& target);

// The records of an imported cache, for the solver (--cache-from).
class SharedCache : public solver::RecordSource {
 public:
  // Reads the manifest and the config. A location with no cache yet gives an empty index and
  // a warning (the first build of a pipeline has nothing to import); a malformed one throws.
  // The config blob is kept in `store`. Warnings go to `warn` (default: stderr).
  SharedCache(std::unique_ptr<ArtifactStore> source, cache::Store& store,
              std::function<void(const std::string&)> warn = {});
  size_t size() const { return records_.size(); }
  std::optional<cache::Record> lookup(const std::string& key) override;
  bool pull(const std::string& key, const cache::Record& record, cache::Store& store,
            solver::VertexProgress& progress) override;

 private:
  std::unique_ptr<ArtifactStore> source_;
  std::mutex mu_;
  std::map<std::string, cache::Record> records_;
  std::map<std::string, uint64_t> blobs_;  // digest -> size, the layers
};

// The media type of a pushed result layer: application/wasm for "*.wasm", else by extension
// (".zst" application/zstd, ".gz" application/gzip, ".tar" application/x-tar), else
// application/octet-stream.
std::string result_media_type(const std::string& filename);

// Pushes the file result at `path` (named `filename`) as an artifact whose one layer is the
// file; returns the manifest digest.
std::string push_result(const std::filesystem::path& path, const cache::Record& record,
                        const std::string& filename, ArtifactStore& target);

}  // namespace c2w::shared_cache
