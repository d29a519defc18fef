// The local content store behind every build (docs/DESIGN.md "The engine"):
//
//   ROOT/blobs/sha256/<hex>   content blobs (image layers, manifests, configs, op outputs)
//   ROOT/trees/<hex>/         directory outputs (e.g. an unpacked rootfs), named by their id
//   ROOT/actions/<hex>.json   action cache: cache key -> Record (what an op produced)
//   ROOT/tmp/                 staging; resumable partial downloads (<hex>.partial)
//   ROOT/locks/               per-key locks; ROOT/lock: shared by solves, exclusive for prune
//
// Promises: every write is atomic (temp + fsync + rename), so a crash or Ctrl-C never leaves a
// half-written entry under a final name; a blob is checked against its sha256 before it is
// served and a corrupt one is deleted (callers then recompute or refetch); an action record
// whose outputs are gone or whose checksum fails reads as a miss and is deleted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "cache/file_lock.h"
#include "oci/sha256.h"

namespace c2w::cache {

// What a vertex produced. `content` names the output by content: "sha256:..." for a blob,
// "xxh3:..." for a tree. `meta` holds op-specific facts (e.g. a fetched image's manifest).
struct Record {
  enum class Kind { kBlob, kTree };
  Kind kind = Kind::kBlob;
  std::string content;
  uint64_t size = 0;
  nlohmann::json meta = nlohmann::json::object();
  std::string description;  // for `c2w du`
};

// Writes one blob, resumably when its digest is known in advance.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept = default;
  ~BlobWriter();
  // Bytes written so far, including those of an earlier interrupted attempt (resumable).
  uint64_t offset() const { return offset_; }
  void write(const void* data, size_t size);
  // Appends a whole file's bytes; throws naming the file when it cannot be read.
  void write_file(const std::filesystem::path& path);
  // Discards everything written so far (e.g. the server ignored a Range request).
  void restart();
  // Verifies the digest (the expected one if given) and moves the blob into the store, which
  // then knows it intact (Store::blob() does not hash it again).
  std::string commit();

 private:
  friend class Store;
  BlobWriter() = default;
  void open_file(bool truncate);
  class Store* store_ = nullptr;
  std::filesystem::path final_dir_, tmp_path_;
  std::string expected_;
  Fd fd_;
  uint64_t offset_ = 0;
  bool committed_ = false;
  bool keep_partial_ = false;
  FileLock lock_;
};

class Store {
 public:
  // Opens (creating) the store at `root`.
  explicit Store(std::filesystem::path root);
  // $XDG_CACHE_HOME/c2w, else $HOME/.cache/c2w.
  static std::filesystem::path default_root();
  // A --cache-dir flag's value, or default_root() when it is empty.
  static std::filesystem::path root_or_default(const std::string& cache_dir);

  const std::filesystem::path& root() const { return root_; }

  // ---- blobs (sha256) ----
  // The blob's path when present and intact; a corrupt blob is deleted and reads as absent.
  std::optional<std::filesystem::path> blob(std::string_view digest);
  std::string read_blob(std::string_view digest);  // throws when absent
  std::string put_blob(std::string_view data);     // returns the digest
  // A writer for a blob; with `expected_digest`, a partial earlier download is resumed.
  BlobWriter write_blob(std::string_view expected_digest = {});
  std::filesystem::path blob_path(std::string_view digest) const;

  // ---- trees ----
  std::optional<std::filesystem::path> tree(std::string_view id) const;
  // A fresh staging directory; fill it, then commit_tree() moves it under its id.
  std::filesystem::path stage_tree();
  std::filesystem::path commit_tree(const std::filesystem::path& staged, std::string_view id);
  // Gets rid of a scratch directory without waiting: it is renamed into tmp/ at once and
  // removed by a detached process (a kernel build tree is ~1 GB of small files, minutes of
  // unlinking on a slow disk). What a crash leaves there, `prune --all` removes.
  void discard(const std::filesystem::path& scratch);

  // ---- action cache ----
  std::optional<Record> get_action(std::string_view key);
  void put_action(std::string_view key, const Record& record);

  // ---- locking ----
  // Held by every solve so that prune waits for it.
  FileLock use() const;
  // Serialises the computation of one key across processes.
  FileLock lock_key(std::string_view key) const;

  // ---- usage ----
  struct Entry {
    std::string kind;  // "blob", "tree", "action"
    std::string id;
    uint64_t size = 0;
    int64_t last_used = 0;  // unix seconds
    std::string description;
  };
  std::vector<Entry> usage() const;
  struct PruneResult {
    uint64_t removed_bytes = 0;
    size_t removed_entries = 0;
  };
  // Removes least recently used entries until at most `keep_bytes` remain (all when `all`).
  // Fails with a clear error when a solve is using the cache.
  PruneResult prune(uint64_t keep_bytes, bool all);

 private:
  friend class BlobWriter;
  void mark_verified(const std::string& digest);
  std::filesystem::path root_;
  mutable std::mutex verified_mu_;
  std::set<std::string> verified_;  // blobs hashed by this process already
};

// Size of a file or (recursively) a directory, not following symlinks.
uint64_t disk_size(const std::filesystem::path& path);
// Hex part of "sha256:<hex>" or "xxh3:<hex>"; throws on anything else (keeps paths safe).
std::string digest_hex(std::string_view digest);

}  // namespace c2w::cache
