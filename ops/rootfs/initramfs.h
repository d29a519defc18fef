// The initramfs rootfs produces: one zstd-compressed newc cpio archive (what Linux
// unpacks into its initial tmpfs root), laid out as
//
//   init              the guest init binary (init/), 0755 root
//   dev/ dev/console  char 5:1, 0600: the kernel opens it for init's stdio (without it,
//                     init's output goes nowhere)
//   proc/ sys/        mount points for init's own /proc and /sys
//   c2w/              0700 root: init's files, outside the container's view
//   c2w/config        the merged image config and the manifest's xattrs, encoded as a
//                     guest_protocol/protocol.h `config` frame
//   c2w/rootfs/...    the container tree: "/" of the manifest is c2w/rootfs itself
//
// Promises: the bytes depend only on the inputs (entries sorted bytewise by name, which puts a
// directory before its contents; inode numbers assigned in that order; zstd level and
// parameters fixed, single-threaded). Type, mode, owner, mtime, device numbers and link targets
// come from the manifest, never from the files on disk (those carry the unpacking user's
// ownership and widened modes); only regular file contents are read from disk, and their size
// must match the manifest. Hard links share one inode number (nlink = the group's size) and
// the first name of a group carries the data, which Linux's unpacker turns into real links.
// newc has no xattrs, so they travel in c2w/config and init applies them at boot. Entries
// this layout adds use mtime 0.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "guest_protocol/protocol.h"
#include "ownership/manifest.h"

namespace c2w::rootfs {

inline constexpr int kZstdLevel = 6;

struct InitramfsSpec {
  std::filesystem::path rootfs;            // the unpacked tree's files (<tree>/rootfs)
  std::vector<ownership::Entry> manifest;  // its metadata, sorted by path
  // Regular files whose bytes are elsewhere than <rootfs>/<path> (COPY sources, copies.h).
  std::map<std::string, std::filesystem::path> files;
  std::string_view init;               // the guest init binary
  guest_protocol::ImageConfig config;  // merged config; xattrs are added from the manifest
};

struct InitramfsStats {
  size_t entries = 0;             // cpio entries, the trailer excluded
  uint64_t cpio_bytes = 0;        // before compression
  uint64_t compressed_bytes = 0;  // what went to `out`
};

// Streams the compressed archive to `out`. `tick` is called once per entry (progress,
// cancellation: it may throw). Throws std::runtime_error naming the entry on bad input: a
// file missing on disk or with another size than the manifest says, a file over 4 GiB.
InitramfsStats write_initramfs(const InitramfsSpec& spec,
                               const std::function<void(const void*, size_t)>& out,
                               const std::function<void(size_t done, size_t total)>& tick = {});

}  // namespace c2w::rootfs
