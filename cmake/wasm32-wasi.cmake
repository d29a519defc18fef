# Toolchain: C++ to wasm32-wasi (WASI preview1) with Debian's clang-16, lld-16, wasi-libc and
# libc++-16-dev-wasm32. No exceptions, no threads: WASI runtimes we target have neither.
set(CMAKE_SYSTEM_NAME WASI)
set(CMAKE_SYSTEM_VERSION 1)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(triple wasm32-wasi)

set(CMAKE_C_COMPILER clang-16)
set(CMAKE_CXX_COMPILER clang++-16)
set(CMAKE_AR llvm-ar-16 CACHE FILEPATH "")
set(CMAKE_RANLIB llvm-ranlib-16 CACHE FILEPATH "")
set(CMAKE_C_COMPILER_TARGET ${triple})
set(CMAKE_CXX_COMPILER_TARGET ${triple})
set(CMAKE_SYSROOT /usr)

set(CMAKE_CXX_FLAGS_INIT
    "-isystem /usr/lib/llvm-16/include/wasm32-wasi/c++/v1 -fno-exceptions -fno-rtti")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-L/usr/lib/llvm-16/lib/wasm32-wasi -fuse-ld=lld")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
