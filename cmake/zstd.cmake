# zstd for the emulator tree: the target `c2w_zstd`, which code that decompresses links.
#   native : Debian's libzstd (libzstd-dev, found by pkg-config in the top CMakeLists.txt)
#   wasm   : only lib/common and lib/decompress of Debian's libzstd 1.5.4 source, compiled for
#            wasm32-wasi without assembly, threads or the thread pool. The source is not in the
#            repository: scripts/setup (scripts/setup-zstd-source) unpacks it into
#            C2W_ZSTD_SOURCE_DIR. Only decompression is available there (ZSTD_decompress*).
if(C2W_PART STREQUAL "wasm")
  set(C2W_ZSTD_SOURCE_DIR /opt/c2w/src/zstd-1.5.4 CACHE PATH
      "Unpacked zstd 1.5.4 source (scripts/setup-zstd-source puts it there)")
  set(zstd_lib ${C2W_ZSTD_SOURCE_DIR}/lib)
  if(NOT EXISTS ${zstd_lib}/zstd.h OR NOT EXISTS ${zstd_lib}/decompress/zstd_decompress.c)
    message(FATAL_ERROR
      "The zstd 1.5.4 source is missing from ${C2W_ZSTD_SOURCE_DIR}: the wasm32 part compiles its "
      "zstd decompressor from it. Run scripts/setup (as root), which fetches Debian's libzstd "
      "source package there (scripts/setup-zstd-source), then build again.")
  endif()
  add_library(c2w_zstd STATIC
    ${zstd_lib}/common/debug.c
    ${zstd_lib}/common/entropy_common.c
    ${zstd_lib}/common/error_private.c
    ${zstd_lib}/common/fse_decompress.c
    ${zstd_lib}/common/xxhash.c
    ${zstd_lib}/common/zstd_common.c
    ${zstd_lib}/decompress/huf_decompress.c
    ${zstd_lib}/decompress/zstd_ddict.c
    ${zstd_lib}/decompress/zstd_decompress.c
    ${zstd_lib}/decompress/zstd_decompress_block.c)
  target_compile_definitions(c2w_zstd PRIVATE
    ZSTD_DISABLE_ASM ZSTD_LEGACY_SUPPORT=0 ZSTD_TRACE=0 ZSTD_MULTITHREAD_SUPPORT_DEFAULT=0
    DEBUGLEVEL=0)
  # Third-party code: built as it is, without our warning set.
  target_compile_options(c2w_zstd PRIVATE -w)
  # Only the public header; SYSTEM so that our warnings do not apply to it.
  target_include_directories(c2w_zstd SYSTEM INTERFACE ${zstd_lib})
else()
  add_library(c2w_zstd INTERFACE)
  target_link_libraries(c2w_zstd INTERFACE PkgConfig::LIBZSTD)
endif()
