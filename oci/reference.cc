#include "oci/reference.h"

#include <filesystem>
#include <regex>

#include "base/error.h"

namespace c2w::oci {

namespace {

const std::regex& component_re() {
  static const std::regex re("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
  return re;
}

bool valid_tag(const std::string& tag) {
  static const std::regex re("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  return std::regex_match(tag, re);
}

bool valid_digest(const std::string& digest) {
  static const std::regex re("sha256:[a-f0-9]{64}");
  return std::regex_match(digest, re);
}

ReferenceError bad(const std::string& text, const std::string& why) {
  return ReferenceError("invalid image reference \"" + text + "\": " + why,
                        "use NAME[:TAG][@sha256:DIGEST], e.g. docker.io/library/busybox:latest, or "
                        "oci-layout:DIR[:TAG] / docker-archive:FILE.tar",
                        why);
}

Reference parse_local(const std::string& text, Reference::Kind kind, const std::string& rest) {
  Reference r;
  r.kind = kind;
  if (rest.empty()) throw bad(text, "no path after the transport prefix");
  if (kind == Reference::Kind::kDockerArchive) {
    r.path = rest;
    return r;
  }
  // oci-layout:DIR[:TAG|@DIGEST] - the suffix starts after the last '/'.
  size_t slash = rest.rfind('/');
  size_t start = slash == std::string::npos ? 0 : slash + 1;
  size_t at = rest.find('@', start);
  size_t colon = rest.find(':', start);
  if (at != std::string::npos) {
    r.path = rest.substr(0, at);
    r.digest = rest.substr(at + 1);
    if (!valid_digest(r.digest)) throw bad(text, "digest must be sha256:<64 hex>");
  } else if (colon != std::string::npos) {
    r.path = rest.substr(0, colon);
    r.tag = rest.substr(colon + 1);
    if (!valid_tag(r.tag)) throw bad(text, "tag \"" + r.tag + "\" is not valid");
  } else {
    r.path = rest;
  }
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

}  // namespace

Reference parse_reference(const std::string& text) {
  if (text.starts_with("oci-layout:"))
    return parse_local(text, Reference::Kind::kOciLayout, text.substr(11));
  if (text.starts_with("docker-archive:"))
    return parse_local(text, Reference::Kind::kDockerArchive, text.substr(15));
  if (text.starts_with("oci-archive:"))
    throw bad(text, "oci-archive is not supported; extract it (tar -x) and use oci-layout:DIR");
  if (text.empty()) throw bad(text, "it is empty");

  Reference r;
  std::string rest = text.starts_with("docker://") ? text.substr(9) : text;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!valid_digest(r.digest)) throw bad(text, "digest must be sha256:<64 hex>");
  }
  size_t slash = rest.find('/');
  std::string first = rest.substr(0, slash);
  bool has_registry =
      slash != std::string::npos && (first.find('.') != std::string::npos ||
                                     first.find(':') != std::string::npos || first == "localhost");
  if (has_registry) {
    r.registry =
        first == "index.docker.io" || first == "registry-1.docker.io" ? "docker.io" : first;
    rest = rest.substr(slash + 1);
  } else {
    r.registry = "docker.io";
  }
  if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!valid_tag(r.tag)) throw bad(text, "tag \"" + r.tag + "\" is not valid");
  }
  if (rest.empty()) throw bad(text, "no repository name");
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t next = rest.find('/', pos);
    std::string comp = rest.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!std::regex_match(comp, component_re()))
      throw bad(text, "repository part \"" + comp +
                          "\" must be lowercase letters, digits and separators");
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  if (r.registry == "docker.io" && rest.find('/') == std::string::npos) rest = "library/" + rest;
  r.repository = rest;
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

std::string Reference::api_host() const {
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

std::string Reference::str() const {
  std::string base;
  switch (kind) {
    case Kind::kRegistry:
      base = registry + "/" + repository;
      break;
    case Kind::kOciLayout:
      base = "oci-layout:" + std::filesystem::absolute(path).lexically_normal().string();
      break;
    case Kind::kDockerArchive:
      return "docker-archive:" + std::filesystem::absolute(path).lexically_normal().string();
  }
  if (!tag.empty()) base += ":" + tag;
  if (!digest.empty()) base += "@" + digest;
  return base;
}

}  // namespace c2w::oci
