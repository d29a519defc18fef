#include "oci/layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/fd.h"
#include "oci/sha256.h"

namespace c2w::oci {

namespace fs = std::filesystem;
using nlohmann::json;

json descriptor(std::string_view media_type, std::string_view digest, uint64_t size) {
  return json{{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

std::string canonical_json(const json& value) {
  return value.dump();
}

void write_file_atomic(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(getpid());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid())
    throw std::runtime_error("cannot create " + tmp.string() + ": " + strerror(errno));
  if (!write_all(fd.get(), data)) {
    const int err = errno;
    fd.reset();
    fs::remove(tmp);
    throw std::runtime_error("cannot write " + tmp.string() + ": " + strerror(err));
  }
  if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
    fs::remove(tmp);
    throw std::runtime_error("cannot flush " + tmp.string() + ": " + strerror(errno));
  }
  fs::rename(tmp, path);
}

Layout Layout::open(const fs::path& dir) {
  if (!fs::is_regular_file(dir / "oci-layout") || !fs::is_regular_file(dir / "index.json"))
    throw std::runtime_error(dir.string() +
                             " is not an OCI image layout (needs oci-layout and index.json)");
  return Layout(dir);
}

Layout Layout::open_or_create(const fs::path& dir) {
  fs::create_directories(dir / "blobs" / "sha256");
  if (!fs::exists(dir / "oci-layout"))
    write_file_atomic(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  Layout layout(dir);
  if (!fs::exists(dir / "index.json"))
    layout.write_index(json{{"schemaVersion", 2},
                            {"mediaType", media_type::kImageIndex},
                            {"manifests", json::array()}});
  return layout;
}

fs::path Layout::blob_path(std::string_view digest) const {
  if (!is_sha256_digest(digest))
    throw std::runtime_error("not a sha256 digest: '" + std::string(digest) + "'");
  return dir_ / "blobs" / "sha256" / std::string(digest.substr(7));
}

bool Layout::has_blob(std::string_view digest) const {
  return fs::exists(blob_path(digest));
}

std::string Layout::read_blob(std::string_view digest) const {
  fs::path path = blob_path(digest);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("blob " + std::string(digest) + " missing from " + dir_.string());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  if (Sha256::of(data) != digest)
    throw std::runtime_error("blob " + path.string() + " does not match its digest " +
                             std::string(digest) + " (corrupt layout)");
  return data;
}

json Layout::read_json_blob(std::string_view digest) const {
  return json::parse(read_blob(digest));
}

json Layout::write_blob(std::string_view media_type, std::string_view data) {
  std::string digest = Sha256::of(data);
  if (!has_blob(digest)) write_file_atomic(blob_path(digest), data);
  return descriptor(media_type, digest, data.size());
}

void Layout::adopt_blob_file(const fs::path& file, std::string_view digest) {
  fs::rename(file, blob_path(digest));
}

json Layout::index() const {
  std::ifstream in(dir_ / "index.json");
  if (!in) throw std::runtime_error("cannot read " + (dir_ / "index.json").string());
  return json::parse(in);
}

std::optional<json> Layout::find_tag(std::string_view tag) const {
  for (const json& m : index().value("manifests", json::array())) {
    if (m.contains("annotations") && m["annotations"].value(kRefNameAnnotation, "") == tag)
      return m;
  }
  return std::nullopt;
}

void Layout::set_tag(std::string_view tag, json desc) {
  json idx = index();
  json kept = json::array();
  for (const json& m : idx["manifests"]) {
    if (!(m.contains("annotations") && m["annotations"].value(kRefNameAnnotation, "") == tag))
      kept.push_back(m);
  }
  desc["annotations"][std::string(kRefNameAnnotation)] = tag;
  kept.push_back(std::move(desc));
  idx["manifests"] = std::move(kept);
  write_index(idx);
}

void Layout::write_index(const json& index) {
  write_file_atomic(dir_ / "index.json", canonical_json(index));
}

}  // namespace c2w::oci
