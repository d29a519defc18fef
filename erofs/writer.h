// Writes an uncompressed EROFS image (4 KiB blocks) of a rootfs described by its ownership
// manifest (ownership/manifest.h): the manifest gives every name, type, mode, owner, mtime,
// device number, symlink target, hard link and xattr; only the bytes of regular files come
// from elsewhere (a FileOpener: the unpacked tree on disk, or a callback).
//
// What the image holds, exactly:
//   - one inode per entry, except that entries with `hardlink` share their target's inode
//     (nlink counts the names; a directory's nlink is 2 + its subdirectories);
//   - i_mode = file type | (mode & 07777), so setuid, setgid and sticky survive;
//   - uid/gid as 32-bit values, device numbers (major < 4096, minor < 2^20), mtimes in
//     seconds. A compact (32-byte) inode is used when it can hold everything: uid, gid and
//     nlink below 65536, size below 4 GiB and the mtime equal to the superblock's build_time
//     (the most common mtime in the manifest); otherwise an extended (64-byte) inode;
//   - xattrs inline in each inode (user.*, trusted.*, security.*, system.posix_acl_access and
//     system.posix_acl_default, with EROFS's name indexes); no shared xattr area;
//   - directories with "." and ".." and their entries sorted bytewise, over as many blocks
//     as they need; symlink targets verbatim;
//   - data: whole blocks (EROFS_INODE_FLAT_PLAIN), the last partial block of a file, directory
//     or symlink packed after its inode when it fits (EROFS_INODE_FLAT_INLINE);
//   - the superblock crc32c (EROFS_FEATURE_COMPAT_SB_CHKSUM), a uuid derived from the
//     manifest, no compression, no time or host state: the same input gives the same bytes.
//
// Layout: block 0 holds the superblock at 1024 and the first inodes (meta_blkaddr is 0, the
// root's nid is 36), then the rest of the inodes, then directory and symlink blocks, then the
// file data in inode order. The image is written front to back in one pass (a pipe works);
// metadata is held in memory, file data is streamed in chunks of 1 MiB.
//
// Errors are c2w::Error naming the path: a malformed manifest (no root, a missing parent, a
// duplicate path), a name longer than 255 bytes, a symlink target longer than 4095, a hard
// link to a missing or non-file entry, an xattr namespace EROFS cannot hold or xattrs too
// large, a device number that does not fit, a file whose size differs from the manifest's (or
// changes while it is read), and an image that would exceed EROFS's 2^32 blocks (16 TiB). The
// manifest and the file sizes are checked before the first byte is written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ownership/manifest.h"

namespace c2w::erofs {

inline constexpr uint32_t kBlockSize = 4096;

// An open regular file whose bytes go into the image.
class FileReader {
 public:
  virtual ~FileReader() = default;
  // The file's size now; the writer refuses a size other than the manifest's.
  virtual uint64_t size() = 0;
  // Reads up to `len` bytes at `offset` into `buf` and returns how many; 0 only at the end of
  // the file. Throws c2w::Error when reading fails.
  virtual size_t read(uint64_t offset, char* buf, size_t len) = 0;
};

// Opens the bytes of a regular-file entry. Called for entries without `hardlink` only, at
// most three times each (size check, tail, body), never concurrently; throws c2w::Error.
using FileOpener = std::function<std::unique_ptr<FileReader>(const ownership::Entry& entry)>;

// Opens `root_dir / entry.path` (the unpacked tree): a regular file, never followed through a
// symlink at its last component.
FileOpener files_under(const std::filesystem::path& root_dir);

struct Options {
  // Called as the image grows: bytes written so far and the image's final size. It may throw
  // (e.g. c2w::Cancelled) to stop the write.
  std::function<void(uint64_t written, uint64_t total)> progress;
  // The filesystem label (at most 16 bytes), e.g. "c2w-rootfs".
  std::string volume_name;
};

struct Stats {
  uint64_t image_bytes = 0;  // blocks * kBlockSize
  uint64_t inodes = 0;
  uint64_t meta_bytes = 0;       // superblock, inodes, inline xattrs and inline tails
  uint64_t extended_inodes = 0;  // inodes that needed the 64-byte form
};

// Writes the image to `fd` from its current position, front to back. On an error the fd holds
// a partial image.
Stats write_image(int fd, const std::vector<ownership::Entry>& entries, const FileOpener& open,
                  const Options& options = {});

// Writes the image to `image` atomically (a temp file beside it, fsync, rename).
Stats write_image_file(const std::filesystem::path& image,
                       const std::vector<ownership::Entry>& entries, const FileOpener& open,
                       const Options& options = {});

// write_image_file with files_under(root_dir).
Stats write_image_file(const std::filesystem::path& image,
                       const std::vector<ownership::Entry>& entries,
                       const std::filesystem::path& root_dir, const Options& options = {});

}  // namespace c2w::erofs
