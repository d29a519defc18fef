#include "erofs/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <string_view>
#include <unordered_map>

#include "base/error.h"
#include "base/fd.h"
#include "base/hash.h"

namespace c2w::erofs {

namespace fs = std::filesystem;
using ownership::Entry;
using ownership::EntryType;

namespace {

// On-disk constants (Linux fs/erofs/erofs_fs.h).
constexpr uint32_t kMagic = 0xE0F5E1E2;
constexpr uint32_t kSuperOffset = 1024;
constexpr uint32_t kSuperSize = 128;
constexpr uint32_t kBlockBits = 12;
constexpr uint32_t kSlotSize = 32;  // inodes sit on 32-byte slots: offset = nid * 32
constexpr uint32_t kCompactSize = 32;
constexpr uint32_t kExtendedSize = 64;
constexpr uint32_t kDirentSize = 12;
constexpr uint32_t kXattrHeaderSize = 12;
constexpr size_t kNameMax = 255;      // EROFS_NAME_LEN
constexpr size_t kSymlinkMax = 4095;  // PATH_MAX - 1
constexpr size_t kXattrNameMax = 255;
constexpr size_t kXattrValueMax = 0xFFFF;
constexpr uint32_t kFeatureCompatSbChksum = 0x1;
constexpr uint32_t kFeatureCompatMtime = 0x2;
constexpr uint16_t kLayoutFlatPlain = 0;
constexpr uint16_t kLayoutFlatInline = 2;
constexpr uint32_t kNullBlock = 0xFFFFFFFF;  // i_u of an inline-only inode: "no blocks"
constexpr uint64_t kMaxBlocks = 0xFFFFFFFF;  // blocks and block addresses are 32-bit
constexpr size_t kChunk = 1 << 20;

// File type codes of directory entries (Linux's fs_types: FT_*).
enum : uint8_t {
  kFtRegular = 1,
  kFtDir = 2,
  kFtChar = 3,
  kFtBlock = 4,
  kFtFifo = 5,
  kFtSymlink = 7
};

// crc32c (Castagnoli, reflected polynomial 0x82F63B78), without the final inversion: the
// superblock holds crc32c(~0, bytes) as Linux's crc32c() computes it.
constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

uint32_t crc32c(uint32_t crc, std::string_view bytes) {
  for (unsigned char b : bytes) crc = kCrc32cTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
  return crc;
}

void put16(std::string& buf, size_t at, uint16_t v) {
  buf[at] = static_cast<char>(v & 0xFF);
  buf[at + 1] = static_cast<char>(v >> 8);
}
void put32(std::string& buf, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) buf[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put64(std::string& buf, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) buf[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint64_t align_up(uint64_t v, uint64_t to) {
  return (v + to - 1) / to * to;
}

struct Inode;

struct Dirent {
  std::string_view name;
  Inode* inode = nullptr;
};

struct Inode {
  const Entry* entry = nullptr;
  uint16_t mode = 0;  // S_IF* | permission bits
  uint8_t file_type = 0;
  uint32_t nlink = 1;
  uint64_t size = 0;
  bool extended = false;
  std::string xattrs;  // the inline xattr region; empty when the inode has none
  uint16_t layout = kLayoutFlatPlain;
  uint64_t blocks = 0;  // whole blocks in the data area
  uint32_t tail = 0;    // bytes packed right after the inode and its xattrs
  uint32_t blkaddr = 0;
  uint64_t offset = 0;  // byte offset in the image (meta_blkaddr is 0): nid * 32
  uint32_t ino = 0;
  bool placed = false;
  // Directories only.
  Inode* parent = nullptr;
  std::vector<Dirent> dirents;      // ".", ".." and the children, sorted bytewise
  std::vector<size_t> block_first;  // index of the first dirent of each directory block

  uint32_t inode_size() const { return extended ? kExtendedSize : kCompactSize; }
  uint64_t slot_size() const { return align_up(inode_size() + xattrs.size() + tail, kSlotSize); }
  uint64_t nid() const { return offset / kSlotSize; }
  bool is_dir() const { return entry->type == EntryType::kDir; }
};

// The hint for a tree whose files no longer match its manifest.
constexpr const char* kTreeChanged =
    "the tree changed after its manifest was written; make both again (for c2w's cache: "
    "`c2w prune --all`, then convert again)";

std::string in_quotes(std::string_view path) {
  return "'" + std::string(path) + "'";
}

std::string_view parent_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

void check_path(const Entry& e) {
  const std::string_view path = e.path;
  if (path == "/") return;
  if (path.empty() || path[0] != '/')
    throw Error("manifest path " + in_quotes(path) + " is not absolute",
                "every path in the manifest starts with '/' (ownership/manifest.h)");
  if (path.find('\0') != std::string_view::npos)
    throw Error("manifest path " + in_quotes(path) + " contains a NUL byte");
  const std::string_view name = path.substr(path.rfind('/') + 1);
  if (name.empty() || name == "." || name == ".." || path.find("//") != std::string_view::npos)
    throw Error("manifest path " + in_quotes(path) + " has an empty, '.' or '..' component",
                "manifest paths are normalized: '/a/b', never '/a//b', '/a/./b' or '/a/'");
  if (name.size() > kNameMax)
    throw Error(in_quotes(path) + ": the name is " + std::to_string(name.size()) +
                    " bytes long; EROFS names hold at most 255 bytes",
                "rename the file in the image to a shorter name");
}

// The inline xattr region of `e`: a 12-byte header (no name filter, no shared xattrs), then
// one entry per xattr (name index, name suffix, value), each padded to 4 bytes.
std::string encode_xattrs(const Entry& e) {
  if (e.xattrs.empty()) return {};
  struct Prefix {
    std::string_view text;
    uint8_t index;
    bool whole;  // the index names the whole xattr, not a prefix
  };
  static constexpr std::array<Prefix, 5> kPrefixes{{
      {"user.", 1, false},
      {"system.posix_acl_access", 2, true},
      {"system.posix_acl_default", 3, true},
      {"trusted.", 4, false},
      {"security.", 6, false},
  }};
  std::string out(kXattrHeaderSize, '\0');
  for (const auto& [name, value] : e.xattrs) {
    const Prefix* prefix = nullptr;
    for (const auto& p : kPrefixes)
      if (p.whole ? name == p.text : name.starts_with(p.text)) prefix = &p;
    if (!prefix)
      throw Error(
          in_quotes(e.path) + ": xattr " + in_quotes(name) + " is in a namespace EROFS cannot hold",
          "EROFS keeps user.*, trusted.*, security.* and POSIX ACL xattrs; drop the "
          "others from the image");
    const std::string_view suffix = std::string_view(name).substr(prefix->text.size());
    if (!prefix->whole && suffix.empty())
      throw Error(in_quotes(e.path) + ": xattr " + in_quotes(name) +
                  " has no name after its prefix");
    if (name.size() > kXattrNameMax)
      throw Error(in_quotes(e.path) + ": xattr name " + in_quotes(name.substr(0, 40) + "...") +
                  " is " + std::to_string(name.size()) + " bytes; at most 255 are allowed");
    if (value.size() > kXattrValueMax)
      throw Error(in_quotes(e.path) + ": xattr " + in_quotes(name) + " has a value of " +
                  std::to_string(value.size()) + " bytes; EROFS holds at most 65535");
    const size_t at = out.size();
    out.resize(at + 4);
    out[at] = static_cast<char>(suffix.size());
    out[at + 1] = static_cast<char>(prefix->index);
    put16(out, at + 2, static_cast<uint16_t>(value.size()));
    out += suffix;
    out += value;
    out.resize(align_up(out.size(), 4), '\0');
  }
  // i_xattr_icount = 1 + (region - 12) / 4 is 16-bit.
  if ((out.size() - kXattrHeaderSize) / 4 + 1 > 0xFFFF)
    throw Error(in_quotes(e.path) + ": its xattrs take " + std::to_string(out.size()) +
                " bytes; EROFS holds at most 262148 bytes of inline xattrs per inode");
  return out;
}

// Reads exactly `len` bytes at `offset`, or throws naming the path.
void read_exact(FileReader& reader, const Entry& e, uint64_t offset, char* buf, size_t len) {
  while (len > 0) {
    const size_t n = reader.read(offset, buf, len);
    if (n == 0)
      throw Error(in_quotes(e.path) + ": the file ended at " + std::to_string(offset) +
                      " bytes while it was read; the manifest says " + std::to_string(e.size),
                  kTreeChanged);
    offset += n;
    buf += n;
    len -= n;
  }
}

void expect_end(FileReader& reader, const Entry& e) {
  char byte;
  if (reader.read(e.size, &byte, 1) != 0)
    throw Error(in_quotes(e.path) + ": the file grew past the manifest's " +
                    std::to_string(e.size) + " bytes while it was read",
                kTreeChanged);
}

// Buffered, counted writes to the output with progress reports.
class Output {
 public:
  Output(int fd, uint64_t total, const Options& options)
      : fd_(fd), total_(total), progress_(options.progress) {
    buf_.reserve(kChunk);
  }
  void append(std::string_view bytes) {
    buf_ += bytes;
    if (buf_.size() >= kChunk) flush();
  }
  void zeros(uint64_t n) {
    while (n > 0) {
      const size_t step = static_cast<size_t>(std::min<uint64_t>(n, kChunk));
      buf_.append(step, '\0');
      n -= step;
      if (buf_.size() >= kChunk) flush();
    }
  }
  void flush() {
    if (buf_.empty()) return;
    if (!write_all(fd_, buf_)) throw system_error("writing the EROFS image", errno);
    written_ += buf_.size();
    buf_.clear();
    if (progress_) progress_(written_, total_);
  }
  uint64_t position() const { return written_ + buf_.size(); }

 private:
  int fd_;
  uint64_t total_;
  const std::function<void(uint64_t, uint64_t)>& progress_;
  std::string buf_;
  uint64_t written_ = 0;
};

class FileTreeReader : public FileReader {
 public:
  FileTreeReader(Fd fd, uint64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}
  uint64_t size() override { return size_; }
  size_t read(uint64_t offset, char* buf, size_t len) override {
    for (;;) {
      const ssize_t n = ::pread(fd_.get(), buf, len, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) throw system_error("reading " + path_, errno);
    }
  }

 private:
  Fd fd_;
  uint64_t size_;
  std::string path_;
};

class ImageWriter {
 public:
  ImageWriter(const std::vector<Entry>& entries, const FileOpener& open, const Options& options)
      : entries_(entries), open_(open), options_(options) {}

  Stats write(int fd) {
    build_tree();
    choose_forms();
    check_file_sizes();
    place_inodes();
    place_data();
    Output out(fd, total_blocks_ * kBlockSize, options_);
    write_meta(out);
    write_dir_and_symlink_blocks(out);
    write_file_data(out);
    out.flush();
    if (out.position() != total_blocks_ * kBlockSize)
      throw Error("internal error: the EROFS image came out at " + std::to_string(out.position()) +
                  " bytes instead of " + std::to_string(total_blocks_ * kBlockSize));
    Stats stats;
    stats.image_bytes = out.position();
    stats.inodes = order_.size();
    stats.meta_bytes = meta_end_;
    for (const Inode* inode : order_) stats.extended_inodes += inode->extended ? 1 : 0;
    return stats;
  }

 private:
  // Inodes and directory entries from the manifest; nlink counts.
  void build_tree() {
    std::unordered_map<std::string_view, size_t> by_path;
    by_path.reserve(entries_.size());
    for (size_t i = 0; i < entries_.size(); ++i) {
      check_path(entries_[i]);
      if (!by_path.emplace(entries_[i].path, i).second)
        throw Error("manifest path " + in_quotes(entries_[i].path) + " appears twice");
    }
    const auto root_it = by_path.find("/");
    if (root_it == by_path.end())
      throw Error("the manifest has no root entry '/'",
                  "a manifest starts with the root directory (ownership/manifest.h)");
    if (entries_[root_it->second].type != EntryType::kDir)
      throw Error("the manifest's root '/' is not a directory");

    inodes_.resize(entries_.size());  // slot i: the inode of entry i, or empty for a hard link
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (!e.hardlink.empty()) continue;
      auto inode = std::make_unique<Inode>();
      inode->entry = &e;
      inode->mode = static_cast<uint16_t>(e.mode & 07777);
      switch (e.type) {
        case EntryType::kFile:
          inode->mode |= S_IFREG;
          inode->file_type = kFtRegular;
          inode->size = e.size;
          break;
        case EntryType::kDir:
          inode->mode |= S_IFDIR;
          inode->file_type = kFtDir;
          inode->nlink = 2;
          break;
        case EntryType::kSymlink:
          inode->mode |= S_IFLNK;
          inode->file_type = kFtSymlink;
          inode->size = e.link.size();
          if (e.link.empty()) throw Error(in_quotes(e.path) + ": the symlink has an empty target");
          if (e.link.size() > kSymlinkMax)
            throw Error(in_quotes(e.path) + ": the symlink target is " +
                        std::to_string(e.link.size()) + " bytes; at most 4095 are allowed");
          break;
        case EntryType::kFifo:
          inode->mode |= S_IFIFO;
          inode->file_type = kFtFifo;
          break;
        case EntryType::kCharDevice:
        case EntryType::kBlockDevice:
          inode->mode |= e.type == EntryType::kCharDevice ? S_IFCHR : S_IFBLK;
          inode->file_type = e.type == EntryType::kCharDevice ? kFtChar : kFtBlock;
          if (e.major > 0xFFF || e.minor > 0xFFFFF)
            throw Error(in_quotes(e.path) + ": device " + std::to_string(e.major) + ":" +
                        std::to_string(e.minor) +
                        " does not fit Linux's 32-bit dev_t (major < 4096, minor < 2^20)");
          break;
      }
      inode->xattrs = encode_xattrs(e);
      inodes_[i] = std::move(inode);
    }

    // Hard links share the inode of their target, which is a regular file with an inode.
    std::vector<Inode*> inode_of(entries_.size());
    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (e.hardlink.empty()) {
        inode_of[i] = inodes_[i].get();
        continue;
      }
      if (e.type != EntryType::kFile)
        throw Error(in_quotes(e.path) +
                    ": a hard link in the manifest must be a regular file, not " +
                    std::string(ownership::type_name(e.type)));
      const auto target = by_path.find(e.hardlink);
      if (target == by_path.end())
        throw Error(in_quotes(e.path) + ": hard link to " + in_quotes(e.hardlink) +
                        ", which is not in the manifest",
                    "a hard link names the first path of its inode (ownership/manifest.h)");
      const Entry& t = entries_[target->second];
      if (t.type != EntryType::kFile || !t.hardlink.empty())
        throw Error(in_quotes(e.path) + ": hard link to " + in_quotes(e.hardlink) +
                    ", which is not a regular file with its own inode");
      inode_of[i] = inodes_[target->second].get();
      if (++inode_of[i]->nlink == 0)
        throw Error(in_quotes(e.hardlink) + ": more than 2^32-1 hard links");
    }

    for (size_t i = 0; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (e.path == "/") continue;
      const auto parent = by_path.find(parent_of(e.path));
      if (parent == by_path.end() || entries_[parent->second].type != EntryType::kDir)
        throw Error(in_quotes(e.path) + ": its parent directory " + in_quotes(parent_of(e.path)) +
                        " is not a directory in the manifest",
                    "the manifest lists every directory above an entry");
      Inode* dir = inodes_[parent->second].get();
      Inode* child = inode_of[i];
      dir->dirents.push_back({std::string_view(e.path).substr(e.path.rfind('/') + 1), child});
      if (child->is_dir()) {
        child->parent = dir;
        ++dir->nlink;
      }
    }
    root_ = inodes_[root_it->second].get();
    root_->parent = root_;

    for (auto& inode : inodes_) {
      if (!inode || !inode->is_dir()) continue;
      inode->dirents.push_back({".", inode.get()});
      inode->dirents.push_back({"..", inode->parent});
      std::sort(inode->dirents.begin(), inode->dirents.end(),
                [](const Dirent& a, const Dirent& b) { return a.name < b.name; });
      // Entries fill blocks in order; one that does not fit in the rest starts a new block.
      size_t used = 0;
      for (size_t k = 0; k < inode->dirents.size(); ++k) {
        const size_t need = kDirentSize + inode->dirents[k].name.size();
        if (k == 0 || used + need > kBlockSize) {
          if (k > 0) inode->size += kBlockSize;
          inode->block_first.push_back(k);
          used = 0;
        }
        used += need;
      }
      inode->size += used;
    }
  }

  // Compact or extended inode, and inline tail or plain blocks.
  void choose_forms() {
    // build_time is the most common mtime (the smallest of equals), so most inodes are compact.
    std::unordered_map<int64_t, uint64_t> counts;
    for (auto& inode : inodes_)
      if (inode) ++counts[inode->entry->mtime];
    uint64_t best = 0;
    for (const auto& [mtime, count] : counts)
      if (count > best || (count == best && mtime < build_time_)) {
        best = count;
        build_time_ = mtime;
      }
    for (auto& inode : inodes_) {
      if (!inode) continue;
      const Entry& e = *inode->entry;
      inode->extended = e.uid > 0xFFFF || e.gid > 0xFFFF || inode->nlink > 0xFFFF ||
                        inode->size > 0xFFFFFFFFu || e.mtime != build_time_;
      const bool has_data =
          e.type == EntryType::kFile || e.type == EntryType::kDir || e.type == EntryType::kSymlink;
      if (!has_data) continue;
      const uint64_t tail = inode->size % kBlockSize;
      if (tail != 0 && inode->inode_size() + inode->xattrs.size() + tail <= kBlockSize) {
        inode->layout = kLayoutFlatInline;
        inode->tail = static_cast<uint32_t>(tail);
        inode->blocks = inode->size / kBlockSize;
      } else {
        inode->layout = kLayoutFlatPlain;
        inode->blocks = (inode->size + kBlockSize - 1) / kBlockSize;
      }
    }
  }

  void check_file_sizes() {
    for (auto& inode : inodes_) {
      if (!inode || inode->entry->type != EntryType::kFile) continue;
      const Entry& e = *inode->entry;
      const uint64_t size = open_(e)->size();
      if (size != e.size)
        throw Error(in_quotes(e.path) + ": the file has " + std::to_string(size) +
                        " bytes but the manifest says " + std::to_string(e.size),
                    kTreeChanged);
    }
  }

  // nids: the root first, then each directory's children together (in name order), directory
  // by directory depth first. An inode never crosses a block boundary unless it is larger than
  // a block (huge xattrs), so inline tails stay within one block as EROFS requires.
  void place_inodes() {
    std::vector<Inode*> stack{root_};
    root_->placed = true;
    order_.push_back(root_);
    while (!stack.empty()) {
      Inode* dir = stack.back();
      stack.pop_back();
      std::vector<Inode*> subdirs;
      for (const Dirent& d : dir->dirents) {
        if (d.name == "." || d.name == "..") continue;
        if (!d.inode->placed) {
          d.inode->placed = true;
          order_.push_back(d.inode);
        }
        if (d.inode->is_dir()) subdirs.push_back(d.inode);
      }
      stack.insert(stack.end(), subdirs.rbegin(), subdirs.rend());
    }

    // Holes left where an inode did not fit the rest of a block, by (free bytes, offset): an
    // inode goes to the smallest hole that holds it, else to the end (best fit, deterministic).
    std::set<std::pair<uint64_t, uint64_t>> holes;
    uint64_t cursor = kSuperOffset + kSuperSize;
    for (Inode* inode : order_) {
      const uint64_t size = inode->slot_size();
      if (size <= kBlockSize) {
        const auto hole = holes.lower_bound({size, 0});
        if (hole != holes.end()) {
          const auto [free, begin] = *hole;
          holes.erase(hole);
          inode->offset = begin;
          if (free > size) holes.insert({free - size, begin + size});
          continue;
        }
        if (cursor % kBlockSize + size > kBlockSize) {
          const uint64_t next = align_up(cursor, kBlockSize);
          holes.insert({next - cursor, cursor});
          cursor = next;
        }
      }
      inode->offset = cursor;
      cursor += size;
    }
    meta_end_ = cursor;
    std::sort(order_.begin(), order_.end(),
              [](const Inode* a, const Inode* b) { return a->offset < b->offset; });
    for (size_t i = 0; i < order_.size(); ++i) order_[i]->ino = static_cast<uint32_t>(i + 1);
    if (order_.size() >= 0xFFFFFFFFu)
      throw Error("the image would have " + std::to_string(order_.size()) +
                  " inodes; EROFS numbers at most 2^32-1");
  }

  // Block addresses: directory and symlink blocks right after the inodes, then file data.
  void place_data() {
    uint64_t next = align_up(meta_end_, kBlockSize) / kBlockSize;
    auto assign = [&](Inode* inode) {
      if (inode->blocks == 0) {
        inode->blkaddr = inode->layout == kLayoutFlatInline ? kNullBlock : 0;
        return;
      }
      if (next + inode->blocks > kMaxBlocks)
        throw Error("the image would exceed EROFS's limit of 2^32-1 blocks of 4 KiB (16 TiB) at " +
                        in_quotes(inode->entry->path),
                    "the image's files are too large for one EROFS image");
      inode->blkaddr = static_cast<uint32_t>(next);
      next += inode->blocks;
    };
    for (Inode* inode : order_)
      if (inode->entry->type != EntryType::kFile) assign(inode);
    for (Inode* inode : order_)
      if (inode->entry->type == EntryType::kFile) assign(inode);
    total_blocks_ = next;
  }

  std::string superblock() const {
    std::string sb(kSuperSize, '\0');
    put32(sb, 0x00, kMagic);
    // 0x04: checksum, filled in once block 0 is complete.
    put32(sb, 0x08, kFeatureCompatSbChksum | kFeatureCompatMtime);
    sb[0x0C] = static_cast<char>(kBlockBits);
    put16(sb, 0x0E, static_cast<uint16_t>(root_->nid()));
    put64(sb, 0x10, order_.size());
    put64(sb, 0x18, static_cast<uint64_t>(build_time_));
    put32(sb, 0x24, static_cast<uint32_t>(total_blocks_));
    // 0x28 meta_blkaddr 0, 0x2C xattr_blkaddr 0.
    const std::string uuid = make_uuid();
    sb.replace(0x30, 16, uuid);
    sb.replace(0x40, options_.volume_name.size(), options_.volume_name);
    return sb;
  }

  // A uuid from the manifest (what the image says about its files, whatever the order of its
  // entries), RFC 9562 version 8.
  std::string make_uuid() const {
    std::vector<const Entry*> sorted;
    sorted.reserve(entries_.size());
    for (const Entry& e : entries_) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(),
              [](const Entry* a, const Entry* b) { return a->path < b->path; });
    Xxh3Hasher h;
    auto field = [&](std::string_view bytes) {
      h.update(std::to_string(bytes.size()) + ":");
      h.update(bytes);
    };
    field("c2w-erofs-v1");
    field(options_.volume_name);
    for (const Entry* entry : sorted) {
      const Entry& e = *entry;
      field(e.path);
      field(ownership::type_name(e.type));
      for (int64_t v : {int64_t{e.mode}, int64_t{e.uid}, int64_t{e.gid}, e.mtime,
                        static_cast<int64_t>(e.size), int64_t{e.major}, int64_t{e.minor}})
        field(std::to_string(v));
      field(e.link);
      field(e.hardlink);
      field(std::to_string(e.xattrs.size()));
      for (const auto& [name, value] : e.xattrs) {
        field(name);
        field(value);
      }
    }
    const std::string hex = h.finish().substr(kXxh3Prefix.size());
    std::string uuid(16, '\0');
    for (size_t i = 0; i < 16; ++i)
      uuid[i] = static_cast<char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    uuid[6] = static_cast<char>((uuid[6] & 0x0F) | 0x80);
    uuid[8] = static_cast<char>((uuid[8] & 0x3F) | 0x80);
    return uuid;
  }

  std::string inode_bytes(const Inode& inode) const {
    const Entry& e = *inode.entry;
    std::string b(inode.inode_size(), '\0');
    const uint16_t icount =
        inode.xattrs.empty()
            ? 0
            : static_cast<uint16_t>((inode.xattrs.size() - kXattrHeaderSize) / 4 + 1);
    uint32_t i_u = inode.blkaddr;
    if (e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice)
      i_u = (e.minor & 0xFF) | (e.major << 8) | ((e.minor & ~0xFFu) << 12);  // new_encode_dev
    else if (e.type == EntryType::kFifo)
      i_u = 0;
    put16(b, 0x00, static_cast<uint16_t>((inode.layout << 1) | (inode.extended ? 1 : 0)));
    put16(b, 0x02, icount);
    put16(b, 0x04, inode.mode);
    put32(b, 0x10, i_u);
    put32(b, 0x14, inode.ino);
    if (inode.extended) {
      put64(b, 0x08, inode.size);
      put32(b, 0x18, e.uid);
      put32(b, 0x1C, e.gid);
      put64(b, 0x20, static_cast<uint64_t>(e.mtime));
      put32(b, 0x2C, inode.nlink);
    } else {
      put16(b, 0x06, static_cast<uint16_t>(inode.nlink));
      put32(b, 0x08, static_cast<uint32_t>(inode.size));
      put16(b, 0x18, static_cast<uint16_t>(e.uid));
      put16(b, 0x1A, static_cast<uint16_t>(e.gid));
    }
    return b;
  }

  // Directory block `k` of `dir`: its dirents, then their names. A block before the last is
  // zero-filled to the block size; the last one is as long as its contents.
  std::string dir_block(const Inode& dir, size_t k) const {
    const size_t first = dir.block_first[k];
    const size_t end = k + 1 < dir.block_first.size() ? dir.block_first[k + 1] : dir.dirents.size();
    std::string b((end - first) * kDirentSize, '\0');
    for (size_t i = first; i < end; ++i) {
      const Dirent& d = dir.dirents[i];
      const size_t at = (i - first) * kDirentSize;
      put64(b, at, d.inode->nid());
      put16(b, at + 8, static_cast<uint16_t>(b.size()));
      b[at + 10] = static_cast<char>(d.inode->file_type);
      b += d.name;
    }
    if (k + 1 < dir.block_first.size()) b.resize(kBlockSize, '\0');
    return b;
  }

  // The bytes packed after the inode (the end of its data), read from the file for a file.
  std::string tail_bytes(const Inode& inode) const {
    const Entry& e = *inode.entry;
    switch (e.type) {
      case EntryType::kDir:
        return dir_block(inode, inode.block_first.size() - 1);
      case EntryType::kSymlink:
        return e.link;
      default: {
        std::string tail(inode.tail, '\0');
        auto reader = open_(e);
        read_exact(*reader, e, inode.blocks * kBlockSize, tail.data(), tail.size());
        expect_end(*reader, e);
        return tail;
      }
    }
  }

  // Block 0 (superblock and the first inodes) and the rest of the inode area, in order.
  void write_meta(Output& out) {
    const uint64_t meta_size = align_up(meta_end_, kBlockSize);
    std::string pending(kBlockSize, '\0');  // bytes [base, base + size) of the image
    uint64_t base = 0;
    pending.replace(kSuperOffset, kSuperSize, superblock());
    auto flush_until = [&](uint64_t upto) {  // writes the whole blocks before `upto`
      const uint64_t end = upto / kBlockSize * kBlockSize;
      if (end <= base) return;
      pending.resize(std::max<uint64_t>(pending.size(), end - base), '\0');
      if (base == 0) {
        std::string block0 = pending.substr(kSuperOffset, kBlockSize - kSuperOffset);
        put32(pending, kSuperOffset + 4, crc32c(0xFFFFFFFFu, block0));
      }
      out.append(std::string_view(pending).substr(0, end - base));
      pending.erase(0, end - base);
      base = end;
    };
    for (const Inode* inode : order_) {
      if (inode->offset - base >= kChunk) flush_until(inode->offset);
      std::string bytes = inode_bytes(*inode);
      bytes += inode->xattrs;
      if (inode->tail) bytes += tail_bytes(*inode);
      const uint64_t at = inode->offset - base;
      if (pending.size() < at + bytes.size()) pending.resize(at + bytes.size(), '\0');
      pending.replace(at, bytes.size(), bytes);
    }
    flush_until(meta_size);
  }

  void write_dir_and_symlink_blocks(Output& out) {
    for (const Inode* inode : order_) {
      if (inode->blocks == 0) continue;
      if (inode->is_dir()) {
        for (size_t k = 0; k < inode->blocks; ++k) {
          const std::string b = dir_block(*inode, k);
          out.append(b);
          out.zeros(kBlockSize - b.size());
        }
      } else if (inode->entry->type == EntryType::kSymlink) {
        out.append(inode->entry->link);
        out.zeros(kBlockSize - inode->entry->link.size());
      }
    }
  }

  void write_file_data(Output& out) {
    std::string buf(kChunk, '\0');
    for (const Inode* inode : order_) {
      if (inode->blocks == 0 || inode->entry->type != EntryType::kFile) continue;
      const Entry& e = *inode->entry;
      if (out.position() != uint64_t{inode->blkaddr} * kBlockSize)
        throw Error("internal error: EROFS data of " + in_quotes(e.path) + " is misplaced");
      auto reader = open_(e);
      const uint64_t length =
          inode->layout == kLayoutFlatInline ? inode->blocks * kBlockSize : inode->size;
      for (uint64_t done = 0; done < length;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, length - done));
        read_exact(*reader, e, done, buf.data(), n);
        out.append(std::string_view(buf.data(), n));
        done += n;
      }
      if (inode->layout == kLayoutFlatPlain) expect_end(*reader, e);
      out.zeros(inode->blocks * kBlockSize - length);
    }
  }

  const std::vector<Entry>& entries_;
  const FileOpener& open_;
  const Options& options_;
  std::vector<std::unique_ptr<Inode>> inodes_;
  std::vector<Inode*> order_;  // inodes by offset (nid)
  Inode* root_ = nullptr;
  int64_t build_time_ = 0;
  uint64_t meta_end_ = 0;
  uint64_t total_blocks_ = 0;
};

}  // namespace

FileOpener files_under(const fs::path& root_dir) {
  return [root_dir](const Entry& e) -> std::unique_ptr<FileReader> {
    const fs::path path = root_dir / e.path.substr(1);
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) throw system_error("opening " + path.string(), errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) throw system_error("reading " + path.string(), errno);
    if (!S_ISREG(st.st_mode))
      throw Error(in_quotes(e.path) + ": " + path.string() + " is not a regular file",
                  kTreeChanged);
    return std::make_unique<FileTreeReader>(std::move(fd), static_cast<uint64_t>(st.st_size),
                                            path.string());
  };
}

Stats write_image(int fd, const std::vector<Entry>& entries, const FileOpener& open,
                  const Options& options) {
  if (options.volume_name.size() > 16)
    throw Error("EROFS volume name " + in_quotes(options.volume_name) + " is longer than 16 bytes");
  return ImageWriter(entries, open, options).write(fd);
}

Stats write_image_file(const fs::path& image, const std::vector<Entry>& entries,
                       const FileOpener& open, const Options& options) {
  const fs::path tmp = image.string() + ".tmp";
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) throw system_error("creating " + tmp.string(), errno);
  try {
    const Stats stats = write_image(fd.get(), entries, open, options);
    if (::fsync(fd.get()) != 0) throw system_error("writing " + tmp.string(), errno);
    fd.reset();
    std::error_code ec;
    fs::rename(tmp, image, ec);
    if (ec) throw system_error("renaming " + tmp.string() + " to " + image.string(), ec.value());
    return stats;
  } catch (...) {
    fd.reset();
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
}

Stats write_image_file(const fs::path& image, const std::vector<Entry>& entries,
                       const fs::path& root_dir, const Options& options) {
  return write_image_file(image, entries, files_under(root_dir), options);
}

}  // namespace c2w::erofs
