// 128-bit integers (a GCC/Clang extension, also available on wasm32) for wide products and
// quotients. __extension__ keeps -Wpedantic quiet about the non-ISO type.
#pragma once

namespace c2w::riscv64 {
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;
}  // namespace c2w::riscv64
