// The unpack op: applies an image's layer blobs, in order, into a new rootfs directory.
//
// Contract:
// - `dest` must not exist; its parent must. The work happens in a private sibling directory
//   (`<dest>.tmp-XXXXXX`, mode 0700) that is renamed to `dest` only when every layer applied
//   and verified; on any error it is removed and the exception propagates, so a failed unpack
//   leaves nothing behind. dest keeps mode 0700: the tree inside carries image modes (e.g.
//   world-writable /tmp) that other host users must not reach.
// - `dest/rootfs/` is the tree, `dest/metadata.jsonl` its manifest (ownership/manifest.h):
//   real owners, modes, device numbers and xattrs live there, not on disk (see rootfs.h for
//   what the disk holds and why nothing can be written outside rootfs/).
// - Every blob's sha256 must equal its digest, and its uncompressed tar's sha256 must equal
//   `diff_id` when one is given; both are computed while streaming (no whole-layer buffers).
// - Compression comes from the magic bytes (gzip, zstd, xz, bzip2 or none); a media type that
//   names a compression the bytes do not have is an error.
// - Errors are UnpackError, one line naming the layer (index and digest), the entry when there
//   is one, and what to do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace c2w::unpack {

class UnpackError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LayerBlob {
  std::filesystem::path file;
  std::string media_type;  // OCI or Docker layer media type; unknown ones are sniffed
  std::string digest;      // "sha256:<hex>" of the blob as stored
  std::string diff_id;     // "sha256:<hex>" of the uncompressed tar, or empty to skip the check
};

struct UnpackOptions {
  // Called as blob bytes are read: layer index, compressed bytes read so far, blob size.
  std::function<void(size_t layer, uint64_t read, uint64_t total)> progress;
  // syncfs() before the final rename so a crash cannot leave a renamed but partial tree.
  bool sync = true;
};

struct LayerStats {
  std::string digest;
  std::string diff_id;      // computed
  std::string compression;  // "gzip", "zstd", "xz", "bzip2" or "none"
  uint64_t compressed_bytes = 0;
  uint64_t uncompressed_bytes = 0;
  uint64_t entries = 0;  // tar entries read, whiteouts included
  double seconds = 0;
};

struct UnpackResult {
  std::filesystem::path rootfs;    // dest/rootfs
  std::filesystem::path metadata;  // dest/metadata.jsonl
  // OCI ChainID of the applied diff_ids: names the tree's content whatever the compression.
  std::string chain_id;
  size_t entries = 0;  // manifest entries, the root included
  std::vector<LayerStats> layers;
};

UnpackResult unpack_layers(const std::vector<LayerBlob>& layers, const std::filesystem::path& dest,
                           const UnpackOptions& options = {});

// The compression a blob starting with `head` uses, by magic bytes: "gzip", "zstd", "xz",
// "bzip2" or "none".
std::string sniff_compression(std::string_view head);

}  // namespace c2w::unpack
