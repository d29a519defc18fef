// The metadata manifest of an unpacked rootfs: the real type, mode, ownership, device numbers,
// link targets and xattrs of every entry, which the files on disk do not carry (they belong to
// whoever ran c2w, device nodes are placeholders, modes are widened so the owner can read).
//
// File format (`<dest>/metadata.jsonl`, UTF-8, one JSON object per line, keys sorted):
//   line 1: {"entries":N,"format":"c2w-rootfs-metadata","version":1}
//   then N lines sorted by path (bytewise), so a parent always precedes its children, e.g.
//   {"gid":0,"mode":493,"mtime":0,"path":"/","type":"dir","uid":0}
//   {"gid":0,"link":"usr/bin","mode":511,"mtime":0,"path":"/bin","type":"symlink","uid":0}
//   {"gid":0,"major":1,"minor":3,"mode":438,"mtime":0,"path":"/dev/null","type":"char","uid":0}
//   {"gid":0,"mode":493,"mtime":0,"path":"/usr/bin/perl","size":3481640,"type":"file","uid":0}
//   {"gid":0,"hardlink":"/usr/bin/perl","mode":493,"mtime":0,"path":"/usr/bin/perl5.40.1",
//    "size":3481640,"type":"file","uid":0}                          (one line in the file)
//   {...,"path":"/usr/bin/ping",...,"xattrs":{"security.capability":"AQAAAgAgAAAAAAAAAAAAAAAAAAA="}}
// Fields: path (absolute inside the rootfs), type (file|dir|symlink|fifo|char|block), mode
// (permission bits 07777 as a number), uid, gid, mtime (seconds), size (files), link (symlink
// target, verbatim), hardlink (files sharing an inode: the first such path in sorted order;
// absent on that first path), major/minor (char/block), xattrs ({name: base64 value}).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace c2w::ownership {

enum class EntryType { kFile, kDir, kSymlink, kFifo, kCharDevice, kBlockDevice };

std::string_view type_name(EntryType type);

struct Entry {
  std::string path;  // "/" for the root, "/etc/passwd" otherwise
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits including setuid, setgid and sticky
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;
  uint64_t size = 0;  // regular files only
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string link;      // symlink target
  std::string hardlink;  // path of the file this one shares its inode with
  std::map<std::string, std::string> xattrs;

  bool operator==(const Entry&) const = default;
};

// Writes `entries` (must already be sorted by path) atomically to `file`.
void write_metadata(const std::filesystem::path& file, const std::vector<Entry>& entries);
// Reads a manifest written by write_metadata; throws with the line number on bad input.
std::vector<Entry> read_metadata(const std::filesystem::path& file);

std::string base64_encode(std::string_view bytes);
// Throws on characters outside the standard alphabet or bad padding.
std::string base64_decode(std::string_view text);

}  // namespace c2w::ownership
