// A human-readable dump of a Definition, for debugging, `c2w --show-graph`-style output and
// tests.
//
// Promise: one block per op in Definition order, numbered #1.., giving its kind, digest
// (recomputed from the stored bytes and flagged if it differs from the metadata key), stage,
// recipe location, description, inputs (by number) and its fields; config fragments are shown
// by size and digest, not text. The last line names the result. Deterministic for a given
// Definition. Throws std::runtime_error if an op's bytes do not parse.
#pragma once

#include <string>

#include "c2w/v1/graph.pb.h"

namespace c2w::frontend {

std::string describe(const c2w::v1::Definition& definition);

}  // namespace c2w::frontend
