// Applies the entries of layer tars, one layer after another, to a rootfs directory, and keeps
// the metadata manifest of the result (ownership/manifest.h).
//
// Promises:
// - Nothing is created, changed or removed outside the root directory. Entry names that are
//   absolute or contain a ".." component are rejected (EntryError). Symlinks met while walking
//   to an entry's parent are followed the way a chroot would: an absolute target restarts at the
//   root and ".." stops at the root, so `a -> /` then `a/etc/x` writes `<root>/etc/x`, and the
//   manifest records that real path. Every step opens one component relative to the directory fd
//   of the previous one with O_NOFOLLOW, so a symlink is only ever followed by this code.
//   We resolve components ourselves instead of using openat2(RESOLVE_IN_ROOT) because the
//   manifest needs the resolved path, which openat2 does not report, and because it also works
//   on kernels before 5.6.
// - OCI layer semantics: `.wh.NAME` removes NAME as lower layers left it, `.wh..wh..opq` hides
//   the lower-layer contents of its directory, entries of the same layer survive both
//   (whatever the order inside the tar); whiteout files never appear in the tree; a later entry
//   replaces an earlier one unless both are directories (then the metadata is updated).
//   Missing parent directories are created (0755, root) as Docker and containerd do.
// - No root needed: files belong to the caller. On disk, setuid/setgid/sticky bits are dropped
//   and the owner always gets rw (rwx for directories) so the tree can be read and removed;
//   xattrs are not set on disk. Device nodes become empty regular files (0600) as placeholders;
//   fifos are real fifos. The manifest holds the real type, mode, owner, rdev and xattrs.
// - Hard links must name an entry that already exists in the tree (this layer or a lower one)
//   and is not a directory; the link shares the target's inode and metadata.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/fd.h"
#include "ownership/manifest.h"

namespace c2w::unpack {

// A tar entry that cannot be applied: its name is in the message.
class EntryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// The host refused an operation for an entry (no space, no permission, a name too long for the
// filesystem): the message ends with the system's reason.
class HostError : public EntryError {
 public:
  using EntryError::EntryError;
};

class RootfsWriter {
 public:
  // `root` must be an existing, empty directory.
  explicit RootfsWriter(const std::filesystem::path& root);

  // Entries applied from now on belong to layer `index` (layers must come in order).
  void begin_layer(size_t index) { layer_ = index; }
  // Applies the header `entry` just read from `archive`, reading its data for regular files.
  void apply(archive* archive, archive_entry* entry);
  // Sets directory mtimes, checks the tree against the manifest and returns the manifest,
  // sorted by path. The writer must not be used afterwards.
  std::vector<ownership::Entry> finish();

 private:
  struct Node {
    ownership::Entry meta;
    size_t layer = 0;
  };
  struct Dir {
    Fd fd;
    std::string path;  // canonical, relative to the root ("" is the root)
  };

  std::optional<Dir> resolve_dir(const std::vector<std::string>& components, bool create);
  const Dir& parent_dir(const std::vector<std::string>& components);
  bool clear_for(const Dir& parent, const std::string& name, bool new_is_dir);
  bool remove_at(int dirfd, const std::string& name, const std::string& path, bool keep_layer);
  void whiteout(const std::vector<std::string>& parent, const std::string& name);
  void make_opaque(const std::vector<std::string>& dir);
  void write_data(archive* archive, int fd, const std::string& path, int64_t size);
  void link(const Dir& parent, const std::string& name, const std::string& path,
            const std::string& target);
  void finish_dir(int fd, const std::string& path,
                  std::map<ino_t, std::vector<std::string>>& inodes);

  Fd root_;
  size_t layer_ = 0;
  std::map<std::string, Node> nodes_;  // by canonical relative path, "" is the root
  // The parent of consecutive entries is usually the same: remember the last one until
  // something is removed (only a removal can change what a path resolves to).
  std::string cached_key_;
  std::optional<Dir> cached_;
  bool cache_valid_ = false;
};

// Splits a tar entry name into components: strips leading "./" and trailing "/", drops "."
// components; throws EntryError for absolute names and ".." components.
std::vector<std::string> split_entry_name(const std::string& name);

}  // namespace c2w::unpack
