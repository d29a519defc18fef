// ROOTFS ... COPY src dst: files from the client's context laid over the image's manifest
// before the initramfs is written, with Docker's COPY rules:
// - a directory source copies its contents into dst (created if missing; an existing
//   directory keeps its own metadata and gets the contents merged in);
// - a file source becomes dst, or dst/<name of src> when dst ends in '/' or is a directory;
// - symlinks in the image met on the way to dst are followed inside the rootfs (as a chroot
//   would), so COPY x /bin/x lands in /usr/bin/x on a merged-/usr image;
// - what a copied entry replaces is removed, a replaced directory with everything under it;
//   hard-link groups that lose their first name get the next one as their first;
// - copied entries belong to root:root, keep their permission bits and get mtime 0: the
//   context's digest leaves times out (context/loader.h), so the output must too.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "ownership/manifest.h"

namespace c2w::rootfs {

struct CopySource {
  std::filesystem::path path;  // where the content is on this machine (file or directory)
  std::string name;            // src as the recipe wrote it (its last component names files)
  std::string dst;             // absolute path in the rootfs
};

struct Overlay {
  std::vector<ownership::Entry> manifest;  // sorted by path
  // Regular files whose bytes are not at <rootfs>/<path>: path in the rootfs -> file on disk.
  std::map<std::string, std::filesystem::path> files;
};

// Throws std::runtime_error naming the copy on anything it cannot apply (a non-absolute dst,
// `..` in dst, a file where a directory must be, a symlink loop, unreadable sources).
Overlay apply_copies(std::vector<ownership::Entry> manifest, const std::vector<CopySource>& copies);

}  // namespace c2w::rootfs
