// The image config init applies: the OCI image config's Entrypoint, Cmd, Env, WorkingDir and
// User with the recipe's ROOTFS overrides applied the way a Dockerfile applies them: ENV
// replaces or adds by key, CMD replaces Cmd, ENTRYPOINT replaces Entrypoint and, unless CMD is
// also given, clears the image's Cmd.
#pragma once

#include <nlohmann/json.hpp>

#include "c2w/v1/graph.pb.h"
#include "guest_protocol/protocol.h"

namespace c2w::rootfs {

// `oci_config` is the image config blob as parsed JSON ({"config": {...}, ...}); a missing or
// null "config" means an image with no defaults. Throws std::runtime_error on fields of the
// wrong JSON type, naming the field.
guest_protocol::ImageConfig merge_image_config(const nlohmann::json& oci_config,
                                               const v1::RootfsOp& op);

}  // namespace c2w::rootfs
