// `docker save` archives: manifest.json names the config and the layer tars inside the
// archive. Their blobs go into the store under their sha256 and an OCI manifest is made for
// them (deterministically), so the rest of the pipeline sees an ordinary image.
#include <archive.h>
#include <archive_entry.h>

#include <map>
#include <memory>
#include <set>

#include "base/error.h"
#include "distribution/image_source.h"
#include "oci/layout.h"

namespace c2w::distribution {

namespace {

using nlohmann::json;

struct ReaderFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::unique_ptr<archive, ReaderFree> open_archive(const std::string& path) {
  std::unique_ptr<archive, ReaderFree> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 20) != ARCHIVE_OK)
    throw Error("cannot open the docker archive " + path + ": " + archive_error_string(a.get()),
                "docker-archive: takes a file written by `docker save`");
  return a;
}

std::string normalize(std::string name) {
  while (name.starts_with("./")) name = name.substr(2);
  return name;
}

std::string layer_media_type(const unsigned char* head, size_t n) {
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return std::string(oci::media_type::kLayerGzip);
  if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
    return std::string(oci::media_type::kLayerZstd);
  return std::string(oci::media_type::kLayerTar);
}

}  // namespace

Image fetch_docker_archive(const oci::Reference& ref, const Platform& platform, cache::Store& store,
                           const FetchHooks& hooks) {
  // Pass 1: manifest.json (it may sit anywhere in the tar) and symlinked layer names.
  json manifest;
  std::map<std::string, std::string> links;
  {
    auto a = open_archive(ref.path);
    archive_entry* e;
    while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
      std::string name = normalize(archive_entry_pathname(e));
      if (archive_entry_filetype(e) == AE_IFLNK) {
        std::string target = archive_entry_symlink(e);
        std::string dir = name.substr(0, name.rfind('/') + 1);
        links[name] = normalize(target.starts_with("../") ? target.substr(3) : dir + target);
      }
      if (name != "manifest.json") continue;
      std::string text(static_cast<size_t>(archive_entry_size(e)), '\0');
      archive_read_data(a.get(), text.data(), text.size());
      manifest = json::parse(text, nullptr, false);
    }
  }
  if (!manifest.is_array() || manifest.empty() || !manifest[0].contains("Config"))
    throw Error(ref.path + " has no usable manifest.json",
                "docker-archive: takes a file written by `docker save`");
  const json& m = manifest[0];
  auto resolve = [&](std::string name) {
    for (int i = 0; i < 8 && links.count(name); ++i) name = links[name];
    return name;
  };
  std::map<std::string, std::string> wanted;  // archive name -> role ("config" or layer index)
  wanted[resolve(normalize(m["Config"]))] = "config";
  std::vector<std::string> layer_names;
  for (const json& l : m.value("Layers", json::array()))
    layer_names.push_back(resolve(normalize(l)));
  for (const std::string& n : layer_names) wanted.emplace(n, "layer");

  // Pass 2: stream the wanted entries into the store.
  std::map<std::string, std::pair<std::string, uint64_t>> stored;  // name -> digest, size
  std::map<std::string, std::string> media;
  auto a = open_archive(ref.path);
  archive_entry* e;
  std::vector<char> buf(1 << 20);
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    std::string name = normalize(archive_entry_pathname(e));
    if (!wanted.count(name) || stored.count(name) || archive_entry_filetype(e) != AE_IFREG)
      continue;
    cache::BlobWriter w = store.write_blob();
    uint64_t total = static_cast<uint64_t>(archive_entry_size(e)), done = 0;
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf.data(), buf.size())) > 0) {
      if (hooks.cancelled && hooks.cancelled()) throw Cancelled();
      if (done == 0)
        media[name] = layer_media_type(reinterpret_cast<unsigned char*>(buf.data()), size_t(n));
      w.write(buf.data(), static_cast<size_t>(n));
      done += static_cast<uint64_t>(n);
      if (hooks.progress) hooks.progress(name, "reading " + name, done, total);
    }
    if (n < 0 || done != total)
      throw Error("the docker archive " + ref.path + " is truncated or corrupt at " + name + ": " +
                  (n < 0 ? archive_error_string(a.get()) : "short entry"));
    stored[name] = {w.commit(), done};
  }
  for (const auto& [name, role] : wanted)
    if (!stored.count(name))
      throw Error("the docker archive " + ref.path + " lacks " + name + " (" + role + ")");

  std::string config_name = resolve(normalize(m["Config"]));
  json oci_manifest = {
      {"schemaVersion", 2},
      {"mediaType", oci::media_type::kImageManifest},
      {"config", oci::descriptor(oci::media_type::kImageConfig, stored[config_name].first,
                                 stored[config_name].second)},
      {"layers", json::array()}};
  Image image;
  image.ref = ref.str();
  image.platform = platform;
  image.downloaded = true;
  for (const std::string& n : layer_names) {
    json d = oci::descriptor(media[n], stored[n].first, stored[n].second);
    oci_manifest["layers"].push_back(d);
    image.layers.push_back(d);
  }
  image.config = stored[config_name].first;
  image.manifest = store.put_blob(oci::canonical_json(oci_manifest));
  json config = json::parse(store.read_blob(image.config), nullptr, false);
  if (config.is_discarded()) throw Error("the image config in " + ref.path + " is not valid JSON");
  if (config.value("architecture", "") != platform.architecture ||
      config.value("os", "") != platform.os)
    throw Error("image " + ref.str() + " is for " + config.value("os", "?") + "/" +
                    config.value("architecture", "?") + ", not " + platform.str(),
                "c2w runs riscv64 images for now; choose another with --platform");
  return image;
}

}  // namespace c2w::distribution
