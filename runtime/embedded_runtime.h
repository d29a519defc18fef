// The wasm32-wasi runtime module (cmd/c2w-runtime, built by the wasm part of this same build)
// embedded into the native c2w and c2wd, so the pack op needs no data files and its runtime
// always matches the emulator that made the snapshot.
#pragma once

#include <string>
#include <string_view>

namespace c2w::runtime {

std::string_view embedded_runtime();
// sha256 of embedded_runtime(), computed once: names the emulator build in cache keys.
const std::string& embedded_runtime_digest();

}  // namespace c2w::runtime
