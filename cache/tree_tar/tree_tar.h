// A store tree (e.g. an unpacked rootfs with its ownership manifest) as a tar stream and back,
// so a remote builder can send a tree result. The stream keeps what client/export.h keeps:
// files, directories, symlinks, fifos, hard links, permission bits and modification times
// (owners travel in the tree's manifest, not as tar owners). Reading refuses entries that
// would land outside the destination (absolute paths, `..`, paths through symlinks).
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

namespace c2w::cache {

// Writes the tree at `root` as a pax tar to `sink`, in pieces of about `chunk` bytes. `sink`
// returns false to stop (the reader went away): then this returns false too.
bool write_tree_tar(const std::filesystem::path& root, size_t chunk,
                    const std::function<bool(std::string_view)>& sink);

// Rebuilds a tree from a tar read through `source` (which returns the next piece, empty at the
// end) into `dest`, an existing empty directory. Throws c2w::Error naming what was wrong.
void read_tree_tar(const std::function<std::string_view()>& source,
                   const std::filesystem::path& dest);

}  // namespace c2w::cache
