// Image references, normalised the way Docker does: `alpine` is
// docker.io/library/alpine:latest, `localhost:5000/x` names a registry with a port, a digest
// (`@sha256:...`) wins over a tag. Local sources use a transport prefix like skopeo's:
// `oci-layout:DIR[:TAG|@DIGEST]` and `docker-archive:FILE.tar`.
#pragma once

#include <string>

#include "base/error.h"

namespace c2w::oci {

struct Reference {
  enum class Kind { kRegistry, kOciLayout, kDockerArchive };
  Kind kind = Kind::kRegistry;
  std::string registry;    // "docker.io", "127.0.0.1:5000" (kRegistry)
  std::string repository;  // "library/alpine" (kRegistry)
  std::string tag;         // "latest" unless a digest was given alone
  std::string digest;      // "sha256:..." when pinned
  std::string path;        // layout dir or archive file (local kinds)

  // Host to contact: docker.io's API lives at registry-1.docker.io.
  std::string api_host() const;
  // Canonical text: docker.io/library/alpine:latest, oci-layout:/abs/dir:tag, ...
  std::string str() const;
  // Scope for a bearer token: "repository:library/alpine:pull".
  std::string pull_scope() const { return "repository:" + repository + ":pull"; }
};

// A malformed reference: what() is the whole sentence, reason() only what is wrong.
class ReferenceError : public Error {
 public:
  ReferenceError(const std::string& message, std::string hint, std::string reason)
      : Error(message, std::move(hint)), reason_(std::move(reason)) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

// Throws ReferenceError naming what is malformed.
Reference parse_reference(const std::string& text);

}  // namespace c2w::oci
