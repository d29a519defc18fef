// Content addresses for the engine's internal objects.
//
// Promise: op_digest() is a pure function of an op's fields. Equal ops (field by field, in
// any construction order) give equal digests; any change to any field, inputs included,
// gives a different digest. The form is "xxh3:" followed by 32 lowercase hex digits of the
// XXH3-128 hash, high 64 bits first (xxhash's canonical byte order).
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "base/hash.h"
#include "c2w/v1/graph.pb.h"

namespace c2w::graph {

// Serialization with map entries sorted and no unknown-field reordering surprises: the bytes
// that are hashed and also the bytes stored in Definition.ops.
std::string deterministic_bytes(const google::protobuf::Message& message);

// "xxh3:<hex>" of the op's deterministic serialization.
std::string op_digest(const c2w::v1::Op& op);

// True for strings of the exact form this file produces.
bool is_digest(std::string_view text);

// The op kind's one name (docs/DESIGN.md "The pipeline as a graph"): "fetch", "unpack",
// "source", "local", "kernel", "rootfs", "boot", "pack"; "unknown" for anything else. The
// same word names its folder under ops/, its namespace and its proto message.
std::string_view op_kind_name(c2w::v1::Op::KindCase kind);

}  // namespace c2w::graph
