#include "distribution/image_source.h"

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <map>
#include <memory>

#include "base/error.h"
#include "oci/layout.h"
#include "oci/sha256.h"

namespace c2w::distribution {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

// Where manifests and blobs come from: a registry or an OCI layout.
class BlobSource {
 public:
  virtual ~BlobSource() = default;
  virtual FetchedManifest manifest(const std::string& tag_or_digest) = 0;
  // Stores the blob (checked against `digest`) unless present; true when bytes were moved.
  virtual void copy_blob(const std::string& digest, uint64_t size, cache::BlobWriter& w) = 0;
};

class RegistrySource : public BlobSource {
 public:
  RegistrySource(const oci::Reference& ref, const RegistryOptions& options, const FetchHooks& hooks)
      : client_(ref, options, hooks.cancelled), hooks_(hooks) {}
  FetchedManifest manifest(const std::string& tag_or_digest) override {
    return client_.get_manifest(tag_or_digest);
  }
  void copy_blob(const std::string& digest, uint64_t size, cache::BlobWriter& w) override {
    client_.get_blob(digest, size, w, [&](uint64_t done, uint64_t total) {
      if (hooks_.progress) hooks_.progress(digest, "pulling " + digest.substr(7, 12), done, total);
    });
  }

 private:
  RegistryClient client_;
  const FetchHooks& hooks_;
};

class LayoutSource : public BlobSource {
 public:
  LayoutSource(const oci::Reference& ref, const FetchHooks& hooks)
      : layout_(open(ref)), hooks_(hooks) {}
  FetchedManifest manifest(const std::string& tag_or_digest) override {
    std::string digest = tag_or_digest;
    std::string media;
    if (!tag_or_digest.starts_with("sha256:")) {
      auto desc = layout_.find_tag(tag_or_digest);
      if (!desc)
        throw Error(
            "no image tagged \"" + tag_or_digest + "\" in the OCI layout " + layout_.dir().string(),
            "list its tags in index.json (annotation org.opencontainers.image.ref.name)");
      digest = (*desc)["digest"];
      media = desc->value("mediaType", "");
    }
    std::string bytes = layout_.read_blob(digest);
    return {bytes, media, digest};
  }
  void copy_blob(const std::string& digest, uint64_t size, cache::BlobWriter& w) override {
    fs::path path = layout_.blob_path(digest);
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw Error("blob " + digest + " is missing from the OCI layout " + layout_.dir().string());
    w.restart();
    std::vector<char> buf(1 << 20);
    uint64_t done = 0;
    while (in) {
      if (hooks_.cancelled && hooks_.cancelled()) throw Cancelled();
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      w.write(buf.data(), static_cast<size_t>(in.gcount()));
      done += static_cast<uint64_t>(in.gcount());
      if (hooks_.progress) hooks_.progress(digest, "copying " + digest.substr(7, 12), done, size);
    }
    w.commit();
  }

 private:
  static oci::Layout open(const oci::Reference& ref) {
    try {
      return oci::Layout::open(ref.path);
    } catch (const std::exception& e) {
      throw Error(e.what(), "point oci-layout: at a directory with oci-layout and index.json");
    }
  }
  oci::Layout layout_;
  const FetchHooks& hooks_;
};

// Blobs a remote client uploaded into the store (c2wd): its one manifest is named by digest.
class UploadedSource : public BlobSource {
 public:
  UploadedSource(cache::Store& store, std::string ref) : store_(store), ref_(std::move(ref)) {}
  FetchedManifest manifest(const std::string& digest) override {
    if (!store_.blob(digest)) throw missing(digest);
    return {store_.read_blob(digest), "", digest};
  }
  void copy_blob(const std::string& digest, uint64_t, cache::BlobWriter&) override {
    throw missing(digest);  // resolve() asks only for blobs the store lacks
  }

 private:
  Error missing(const std::string& digest) const {
    return Error("blob " + digest + " of " + ref_ + " was not uploaded by the client",
                 "the client sends every blob of a local image before the solve; run the "
                 "build again");
  }
  cache::Store& store_;
  std::string ref_;
};

std::string media_type_of(const FetchedManifest& m, const json& j) {
  if (j.contains("mediaType")) return j["mediaType"];
  if (!m.media_type.empty()) return m.media_type;
  return j.contains("manifests") ? std::string(oci::media_type::kImageIndex)
                                 : std::string(oci::media_type::kImageManifest);
}

bool matches(const json& p, const Platform& want) {
  if (p.value("os", "") != want.os || p.value("architecture", "") != want.architecture)
    return false;
  return want.variant.empty() || p.value("variant", "") == want.variant;
}

std::string platforms_of(const json& index) {
  std::string out;
  for (const json& m : index["manifests"]) {
    if (!m.contains("platform")) continue;
    Platform p{m["platform"].value("os", "?"), m["platform"].value("architecture", "?"),
               m["platform"].value("variant", "")};
    out += (out.empty() ? "" : ", ") + p.str();
  }
  return out.empty() ? "none listed" : out;
}

Error wrong_platform(const std::string& ref, const std::string& has, const Platform& want) {
  return Error(
      "image " + ref + " is for " + has + ", not " + want.str(),
      want.architecture == "riscv64"
          ? "c2w converts riscv64 images for now (--target-arch riscv64, the default); amd64 "
            "images will come with --target-arch amd64 (an x86_64 emulator core). Use an image "
            "with a linux/riscv64 variant"
          : "choose the platform with --platform OS/ARCH");
}

void store_blob(BlobSource& src, cache::Store& store, const std::string& digest, uint64_t size,
                Image& image) {
  if (store.blob(digest)) return;
  cache::BlobWriter w = store.write_blob(digest);
  src.copy_blob(digest, size, w);
  image.downloaded = true;
}

Image resolve(BlobSource& src, const std::string& ref_text, const std::string& tag_or_digest,
              const Platform& platform, cache::Store& store) {
  Image image;
  image.ref = ref_text;
  image.platform = platform;
  FetchedManifest m = src.manifest(tag_or_digest);
  json j = json::parse(m.bytes, nullptr, false);
  if (j.is_discarded()) throw Error("the manifest of " + ref_text + " is not valid JSON");
  std::string media = media_type_of(m, j);
  if (media == oci::media_type::kImageIndex || media == kDockerManifestList) {
    if (!j.contains("manifests") || !j["manifests"].is_array())
      throw Error("the image index of " + ref_text + " has no manifests list");
    std::string chosen;
    for (const json& d : j["manifests"])
      if (d.contains("platform") && matches(d["platform"], platform)) {
        chosen = d.value("digest", "");
        break;
      }
    if (chosen.empty()) throw wrong_platform(ref_text, platforms_of(j), platform);
    store.put_blob(m.bytes);
    m = src.manifest(chosen);
    j = json::parse(m.bytes, nullptr, false);
    if (j.is_discarded())
      throw Error("the platform manifest of " + ref_text + " is not valid JSON");
    media = media_type_of(m, j);
  }
  if (media != oci::media_type::kImageManifest && media != kDockerManifest)
    throw Error("image " + ref_text + " has a manifest of unsupported type " + media,
                "c2w reads OCI and Docker v2 schema 2 images");
  if (!j.contains("config") || !j["config"].is_object() || !j["config"].contains("digest"))
    throw Error("the manifest of " + ref_text + " has no config descriptor");
  image.manifest = store.put_blob(m.bytes);
  image.config = j["config"]["digest"];
  store_blob(src, store, image.config, j["config"].value("size", uint64_t{0}), image);
  json config = json::parse(store.read_blob(image.config), nullptr, false);
  if (config.is_discarded()) throw Error("the image config of " + ref_text + " is not valid JSON");
  Platform has{config.value("os", "?"), config.value("architecture", "?"),
               config.value("variant", "")};
  if (!matches(json{{"os", has.os}, {"architecture", has.architecture}, {"variant", has.variant}},
               platform))
    throw wrong_platform(ref_text, has.str(), platform);
  for (const json& layer : j.value("layers", json::array())) {
    store_blob(src, store, layer["digest"], layer.value("size", uint64_t{0}), image);
    image.layers.push_back({{"mediaType", layer.value("mediaType", "")},
                            {"digest", layer["digest"]},
                            {"size", layer.value("size", uint64_t{0})}});
  }
  return image;
}

}  // namespace

Image fetch_docker_archive(const oci::Reference& ref, const Platform& platform, cache::Store& store,
                           const FetchHooks& hooks);

Platform Platform::parse(const std::string& text) {
  Platform p;
  size_t a = text.find('/');
  if (a == std::string::npos || a == 0 || a + 1 == text.size())
    throw Error("invalid platform \"" + text + "\"",
                "write it as OS/ARCH[/VARIANT], e.g. linux/riscv64");
  size_t b = text.find('/', a + 1);
  p.os = text.substr(0, a);
  p.architecture = text.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  p.variant = b == std::string::npos ? "" : text.substr(b + 1);
  return p;
}

std::string Platform::str() const {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

json Image::to_json() const {
  return json{{"ref", ref},
              {"manifest", manifest},
              {"config", config},
              {"layers", layers},
              {"platform", platform.str()}};
}

Image Image::from_json(const json& j) {
  Image i;
  i.ref = j.value("ref", "");
  i.manifest = j.value("manifest", "");
  i.config = j.value("config", "");
  i.layers = j.value("layers", json::array());
  i.platform = Platform::parse(j.value("platform", "linux/riscv64"));
  return i;
}

Image resolve_uploaded_image(const std::string& ref_text, const std::string& manifest,
                             const Platform& platform, cache::Store& store) {
  if (!oci::is_sha256_digest(manifest))
    throw Error("the client named the manifest of " + ref_text + " by \"" + manifest +
                "\", not a sha256 digest");
  UploadedSource src(store, ref_text);
  return resolve(src, ref_text, manifest, platform, store);
}

Image fetch_image(const oci::Reference& ref, const Platform& platform,
                  const RegistryOptions& options, cache::Store& store, const FetchHooks& hooks) {
  switch (ref.kind) {
    case oci::Reference::Kind::kRegistry: {
      RegistrySource src(ref, options, hooks);
      return resolve(src, ref.str(), ref.digest.empty() ? ref.tag : ref.digest, platform, store);
    }
    case oci::Reference::Kind::kOciLayout: {
      LayoutSource src(ref, hooks);
      return resolve(src, ref.str(), ref.digest.empty() ? ref.tag : ref.digest, platform, store);
    }
    case oci::Reference::Kind::kDockerArchive:
      return fetch_docker_archive(ref, platform, store, hooks);
  }
  throw Error("unknown reference kind");
}

}  // namespace c2w::distribution
