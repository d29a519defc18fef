#include "shared_cache/shared_cache.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>

#include "base/error.h"
#include "base/fd.h"
#include "graph/digest.h"
#include "oci/layout.h"
#include "oci/reference.h"
#include "oci/sha256.h"

namespace c2w::shared_cache {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kEmptyConfigType = "application/vnd.oci.empty.v1+json";
constexpr const char* kTitleAnnotation = "org.opencontainers.image.title";

// Digests of blobs a record's meta names (e.g. a kernel's .config): exported with it.
void meta_blobs(const json& meta, std::set<std::string>& out) {
  if (meta.is_string()) {
    if (oci::is_sha256_digest(meta.get<std::string>())) out.insert(meta.get<std::string>());
  } else if (meta.is_object() || meta.is_array()) {
    for (const auto& v : meta) meta_blobs(v, out);
  }
}

json record_json(const cache::Record& r) {
  return json{{"kind", r.kind == cache::Record::Kind::kBlob ? "blob" : "tree"},
              {"content", r.content},
              {"size", r.size},
              {"meta", r.meta},
              {"description", r.description}};
}

// A temp file holding `data`, removed when it goes away (blob uploads read files).
struct TempFile {
  fs::path path;
  explicit TempFile(std::string_view data) {
    std::string tmpl = (fs::temp_directory_path() / "c2w-artifact.XXXXXX").string();
    Fd fd(::mkstemp(tmpl.data()));
    if (!fd.valid()) throw system_error("cannot create a temp file in " + tmpl, errno);
    path = tmpl;
    if (!write_all(fd.get(), data)) throw system_error("cannot write " + path.string(), errno);
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

class RegistryStore : public ArtifactStore {
 public:
  RegistryStore(oci::Reference ref, const distribution::RegistryOptions& options,
                std::function<bool()> cancelled)
      : ref_(ref), client_(ref, options, std::move(cancelled)) {}

  std::optional<std::string> get_manifest() override {
    try {
      distribution::FetchedManifest m =
          client_.get_manifest(ref_.digest.empty() ? ref_.tag : ref_.digest);
      return m.bytes;
    } catch (const Error& e) {
      if (std::string(e.what()).find("(404 from") != std::string::npos) return std::nullopt;
      throw;
    }
  }
  void get_blob(const std::string& digest, uint64_t size, cache::BlobWriter& writer) override {
    client_.get_blob(digest, size, writer, nullptr);
  }
  void put_blob(const std::string& digest, const fs::path& path) override {
    client_.put_blob(digest, path.string());
  }
  std::string put_manifest(const std::string& bytes) override {
    if (ref_.tag.empty() || !ref_.digest.empty())
      throw Error("cannot push to " + ref_.str() + ": a push needs a tag, not a digest",
                  "name it like " + ref_.registry + "/" + ref_.repository + ":TAG");
    return client_.put_manifest(ref_.tag, bytes, std::string(oci::media_type::kImageManifest));
  }
  std::string describe() const override { return ref_.str(); }

 private:
  oci::Reference ref_;
  distribution::RegistryClient client_;
};

class LayoutStore : public ArtifactStore {
 public:
  explicit LayoutStore(ArtifactLocation loc) : loc_(std::move(loc)) {}

  std::optional<std::string> get_manifest() override {
    if (!fs::exists(fs::path(loc_.dir) / "index.json")) return std::nullopt;
    oci::Layout layout = open();
    auto desc = layout.find_tag(loc_.tag);
    if (!desc) return std::nullopt;
    return read_checked(layout, desc->value("digest", ""));
  }
  void get_blob(const std::string& digest, uint64_t, cache::BlobWriter& writer) override {
    oci::Layout layout = open();
    std::ifstream in(layout.blob_path(digest), std::ios::binary);
    if (!in)
      throw Error("blob " + digest + " is missing from " + describe(),
                  "export the cache there again with --cache-to");
    writer.restart();
    std::vector<char> buf(1 << 20);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      if (in.gcount() > 0) writer.write(buf.data(), static_cast<size_t>(in.gcount()));
    }
    writer.commit();
  }
  void put_blob(const std::string& digest, const fs::path& path) override {
    oci::Layout layout = oci::Layout::open_or_create(loc_.dir);
    if (layout.has_blob(digest)) return;
    fs::path tmp = layout.blob_path(digest);
    tmp += ".tmp." + std::to_string(::getpid());
    std::error_code ec;
    fs::copy_file(path, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec)
      throw Error("cannot write " + tmp.string() + ": " + ec.message(),
                  "check that " + loc_.dir + " is writable and has space");
    layout.adopt_blob_file(tmp, digest);
  }
  std::string put_manifest(const std::string& bytes) override {
    oci::Layout layout = oci::Layout::open_or_create(loc_.dir);
    json desc = layout.write_blob(oci::media_type::kImageManifest, bytes);
    auto m = json::parse(bytes);
    if (m.contains("artifactType")) desc["artifactType"] = m["artifactType"];
    desc["annotations"] = {{std::string(oci::kRefNameAnnotation), loc_.tag}};
    layout.set_tag(loc_.tag, desc);
    return desc.value("digest", "");
  }
  std::string describe() const override { return loc_.str(); }

 private:
  oci::Layout open() const {
    try {
      return oci::Layout::open(loc_.dir);
    } catch (const std::exception& e) {
      throw Error(e.what(), "point src= at a directory written by --cache-to type=local,dest=DIR");
    }
  }
  std::string read_checked(const oci::Layout& layout, const std::string& digest) const {
    try {
      return layout.read_blob(digest);
    } catch (const std::exception& e) {
      throw Error(describe() + ": " + e.what(), "export the cache there again with --cache-to");
    }
  }
  ArtifactLocation loc_;
};

std::string manifest_bytes(const std::string& artifact_type, const json& config,
                           const json& layers) {
  json m = {{"schemaVersion", 2},
            {"mediaType", oci::media_type::kImageManifest},
            {"artifactType", artifact_type},
            {"config", config},
            {"layers", layers}};
  return oci::canonical_json(m);
}

}  // namespace

std::string ArtifactLocation::str() const {
  if (type == "registry") return ref;
  return dir + (tag == "latest" ? "" : " (tag " + tag + ")");
}

std::unique_ptr<ArtifactStore> open_artifact_store(const ArtifactLocation& location,
                                                   const distribution::RegistryOptions& registry,
                                                   std::function<bool()> cancelled) {
  if (location.type == "local") return std::make_unique<LayoutStore>(location);
  oci::Reference ref = oci::parse_reference(location.ref);
  if (ref.kind != oci::Reference::Kind::kRegistry)
    throw Error("ref=" + location.ref + " is not a registry reference",
                "use type=local,dest=DIR for a directory, or ref=HOST/REPO:TAG");
  return std::make_unique<RegistryStore>(ref, registry, std::move(cancelled));
}

CacheExportSummary export_cache(const std::map<std::string, cache::Record>& records,
                                cache::Store& store, ArtifactStore& target) {
  CacheExportSummary summary;
  json by_key = json::object();
  std::map<std::string, fs::path> blobs;  // digest -> local path; sorted: a stable manifest
  for (const auto& [key, record] : records) {
    if (record.kind == cache::Record::Kind::kBlob) {
      auto path = store.blob(record.content);
      if (!path) continue;  // not local (a lazy import nobody pulled): leave it out
      blobs[record.content] = *path;
      // Blobs its meta names go with it (a tree's records are never pulled with content, so
      // the image layers an unpack record names stay out).
      std::set<std::string> extra;
      meta_blobs(record.meta, extra);
      for (const std::string& d : extra)
        if (auto meta_path = store.blob(d)) blobs[d] = *meta_path;
    }
    by_key[key] = record_json(record);
  }
  json layers = json::array();
  for (const auto& [digest, path] : blobs) {
    target.put_blob(digest, path);
    uint64_t size = fs::file_size(path);
    layers.push_back(oci::descriptor(kCacheBlobType, digest, size));
    summary.bytes += size;
  }
  std::string config = oci::canonical_json(json{{"version", 1}, {"records", by_key}});
  TempFile config_file(config);
  std::string config_digest = oci::Sha256::of(config);
  target.put_blob(config_digest, config_file.path);
  summary.manifest_digest = target.put_manifest(manifest_bytes(
      kCacheArtifactType, oci::descriptor(kCacheConfigType, config_digest, config.size()), layers));
  summary.records = by_key.size();
  summary.blobs = blobs.size();
  return summary;
}

SharedCache::SharedCache(std::unique_ptr<ArtifactStore> source, cache::Store& store,
                         std::function<void(const std::string&)> warn)
    : source_(std::move(source)) {
  if (!warn)
    warn = [](const std::string& w) { std::fprintf(stderr, "c2w: warning: %s\n", w.c_str()); };
  std::optional<std::string> manifest = source_->get_manifest();
  if (!manifest) {
    warn("no shared cache at " + source_->describe() + " yet; building without it");
    return;
  }
  auto bad = [&](const std::string& what) {
    return Error("the shared cache at " + source_->describe() + " is not usable: " + what,
                 "export it again with --cache-to, or drop --cache-from");
  };
  json m = json::parse(*manifest, nullptr, false);
  if (m.is_discarded() || !m.contains("config") || !m["config"].is_object())
    throw bad("its manifest is not an OCI image manifest");
  if (m["config"].value("mediaType", "") != kCacheConfigType)
    throw bad("it is not a c2w cache (config media type " + m["config"].value("mediaType", "") +
              ", expected " + kCacheConfigType + ")");
  for (const json& l : m.value("layers", json::array())) {
    std::string d = l.value("digest", "");
    if (oci::is_sha256_digest(d)) blobs_[d] = l.value("size", uint64_t{0});
  }
  // The config (the index) goes into the local store like any blob, checked on the way in.
  std::string config_digest = m["config"].value("digest", "");
  if (!oci::is_sha256_digest(config_digest)) throw bad("its config has no sha256 digest");
  if (!store.blob(config_digest)) {
    cache::BlobWriter w = store.write_blob(config_digest);
    source_->get_blob(config_digest, m["config"].value("size", uint64_t{0}), w);
  }
  std::string text = store.read_blob(config_digest);
  json config = json::parse(text, nullptr, false);
  if (config.is_discarded() || config.value("version", 0) != 1 || !config.contains("records") ||
      !config["records"].is_object())
    throw bad("its config is not a version 1 c2w cache index");
  size_t refused = 0;
  for (const auto& [key, r] : config["records"].items()) {
    try {
      if (!graph::is_digest(key)) throw Error("key");
      cache::digest_hex(key);
      cache::Record rec;
      std::string kind = r.value("kind", "");
      if (kind != "blob" && kind != "tree") throw Error("kind");
      rec.kind = kind == "tree" ? cache::Record::Kind::kTree : cache::Record::Kind::kBlob;
      rec.content = r.value("content", "");
      cache::digest_hex(rec.content);
      if (rec.kind == cache::Record::Kind::kBlob && !blobs_.count(rec.content))
        throw Error("blob not in the manifest");
      rec.size = r.value("size", uint64_t{0});
      rec.meta = r.value("meta", json::object());
      rec.description = r.value("description", "");
      records_[key] = rec;
    } catch (const std::exception&) {
      ++refused;
    }
  }
  if (refused)
    warn(std::to_string(refused) + " malformed records of the shared cache at " +
         source_->describe() + " ignored");
}

std::optional<cache::Record> SharedCache::lookup(const std::string& key) {
  auto it = records_.find(key);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

bool SharedCache::pull(const std::string& key, const cache::Record& record, cache::Store& store,
                       solver::VertexProgress& progress) {
  std::lock_guard lock(mu_);  // one client, one request at a time
  std::set<std::string> needed;
  if (record.kind == cache::Record::Kind::kTree) {
    if (!store.tree(record.content)) return false;  // trees are not exported
  } else {
    needed.insert(record.content);
  }
  meta_blobs(record.meta, needed);
  for (const std::string& digest : needed) {
    if (store.blob(digest)) continue;
    auto layer = blobs_.find(digest);
    if (layer == blobs_.end()) {
      if (digest == record.content)
        throw Error("blob " + digest + " is not in the shared cache at " + source_->describe());
      continue;  // a meta blob that was not exported: the consumer copes as without a cache
    }
    progress.log("pulling " + digest + " from the shared cache " + source_->describe());
    cache::BlobWriter w = store.write_blob(digest);
    try {
      source_->get_blob(digest, layer->second, w);
    } catch (const Cancelled&) {
      throw;
    } catch (const Error& e) {
      throw Error("blob " + digest + " from the shared cache " + source_->describe() +
                      " refused: " + e.what(),
                  e.hint());
    }
  }
  store.put_action(key, record);
  return true;
}

std::string result_media_type(const std::string& filename) {
  auto ends = [&](const char* suffix) { return filename.ends_with(suffix); };
  if (ends(".wasm")) return "application/wasm";
  if (ends(".zst")) return "application/zstd";
  if (ends(".gz")) return "application/gzip";
  if (ends(".tar")) return "application/x-tar";
  return "application/octet-stream";
}

std::string push_result(const fs::path& path, const cache::Record& record,
                        const std::string& filename, ArtifactStore& target) {
  std::string digest = record.content;
  if (!oci::is_sha256_digest(digest)) digest = oci::Sha256::of_file(path);
  target.put_blob(digest, path);
  TempFile empty("{}");
  std::string empty_digest = oci::Sha256::of("{}");
  target.put_blob(empty_digest, empty.path);
  json layer = oci::descriptor(result_media_type(filename), digest, fs::file_size(path));
  layer["annotations"] = {{kTitleAnnotation, filename}};
  return target.put_manifest(manifest_bytes(kResultArtifactType,
                                            oci::descriptor(kEmptyConfigType, empty_digest, 2),
                                            json::array({layer})));
}

}  // namespace c2w::shared_cache
