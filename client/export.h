// Writing a solve's result where the user asked: a blob result (e.g. out.wasm) is copied to a
// file atomically; a tree result (e.g. an unpacked rootfs with its ownership manifest) is
// copied into a directory with `--output type=local,dest=DIR`.
#pragma once

#include <filesystem>

#include "solver/solver.h"

namespace c2w::client {

// Copies the blob at `from` to `to` through a temp file and a rename.
void export_file(const std::filesystem::path& from, const std::filesystem::path& to);

// Copies a directory tree (files, dirs, symlinks, fifos; hard links kept as links; modes and
// mtimes kept) into `dest`, which must be absent or empty. Directory modes and times are applied
// after their contents, so read-only dirs copy.
void export_tree(const std::filesystem::path& from, const std::filesystem::path& dest);

}  // namespace c2w::client
