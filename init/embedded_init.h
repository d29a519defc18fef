// The guest init binary (static riscv64, built by the guest part of this same build) embedded
// into the native c2w, so the binary needs no data files and its init always matches it.
#pragma once

#include <string_view>

namespace c2w::init {

std::string_view embedded_init();

}  // namespace c2w::init
