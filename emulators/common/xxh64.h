// XXH64 (the 64-bit xxHash of Yann Collet's specification, xxhash_spec.md), written here so
// that it builds for wasm32-wasi, where libxxhash is not available. Its results are XXH64's:
// tests/unit/chunked_image_test.cc checks them against the native libxxhash. Checksums of the
// chunked disk image (chunked_image.h) use it.
#pragma once

#include <cstdint>

namespace c2w::emulators {

uint64_t xxh64(const void* data, uint64_t len, uint64_t seed = 0);

}  // namespace c2w::emulators
