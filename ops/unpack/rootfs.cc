#include "ops/unpack/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>

namespace c2w::unpack {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's MAXSYMLINKS
constexpr std::string_view kWhiteout = ".wh.";
constexpr std::string_view kOpaque = ".wh..wh..opq";
constexpr std::string_view kAufsMeta = ".wh..wh.";

[[noreturn]] void fail(const std::string& what) {
  throw EntryError(what);
}
[[noreturn]] void fail_errno(const std::string& what) {
  throw HostError(what + ": " + strerror(errno));
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::string shown(const std::string& path) {
  return "/" + path;
}

// Modes on disk: no setuid/setgid/sticky on host files, and the owner can always read, write
// and (directories) enter, so the tree can be read, copied and removed without root.
mode_t disk_mode(uint32_t mode, bool dir) {
  return (mode & 0777) | (dir ? 0700 : 0600);
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// The manifest is JSON, which holds UTF-8 only; other bytes would be altered or rejected there.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += len;
  }
  return true;
}

void set_mtime(int dirfd, const char* name, int64_t mtime, const std::string& path) {
  timespec times[2] = {{mtime, 0}, {mtime, 0}};
  if (::utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW) != 0)
    fail_errno("cannot set mtime of " + shown(path));
}

}  // namespace

std::vector<std::string> split_entry_name(const std::string& name) {
  if (!name.empty() && name[0] == '/')
    fail("absolute name (layer entries must be relative to the root)");
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string part = name.substr(start, end - start);
    if (part == "..") fail("the name has a '..' component");
    if (!part.empty() && part != ".") parts.push_back(std::move(part));
    start = end + 1;
  }
  return parts;
}

RootfsWriter::RootfsWriter(const fs::path& root) {
  root_.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root_.valid())
    throw std::runtime_error("cannot open " + root.string() + ": " + strerror(errno));
  Node node;
  node.meta.type = ownership::EntryType::kDir;
  node.meta.mode = 0755;
  node.layer = SIZE_MAX;
  nodes_.emplace("", std::move(node));
}

std::optional<RootfsWriter::Dir> RootfsWriter::resolve_dir(
    const std::vector<std::string>& components, bool create) {
  std::vector<std::string> canon;
  std::vector<Fd> fds;  // fds[i] is the directory named by canon[0..i)
  fds.emplace_back(::dup(root_.get()));
  if (!fds.back().valid()) fail_errno("dup");
  std::deque<std::string> todo(components.begin(), components.end());
  int symlinks = 0;
  auto canon_path = [&] {
    std::string p;
    for (const std::string& c : canon) p = join(p, c);
    return p;
  };
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c.empty() || c == ".") continue;
    if (c == "..") {  // only from symlink targets; ".." of the root is the root
      if (!canon.empty()) {
        canon.pop_back();
        fds.pop_back();
      }
      continue;
    }
    int dirfd = fds.back().get();
    std::string path = join(canon_path(), c);
    struct stat st {};
    if (::fstatat(dirfd, c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) fail_errno("cannot stat " + shown(path));
      if (!create) return std::nullopt;
      if (::mkdirat(dirfd, c.c_str(), disk_mode(0755, true)) != 0)
        fail_errno("cannot create directory " + shown(path));
      Node node;
      node.meta.type = ownership::EntryType::kDir;
      node.meta.mode = 0755;
      node.layer = layer_;
      nodes_[path] = std::move(node);
      st.st_mode = S_IFDIR;
    }
    if (S_ISLNK(st.st_mode)) {
      if (++symlinks > kMaxSymlinks) fail("too many levels of symlinks at " + shown(path));
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(dirfd, c.c_str(), target.data(), target.size());
      if (n < 0) fail_errno("cannot read symlink " + shown(path));
      target.resize(static_cast<size_t>(n));
      if (!target.empty() && target[0] == '/') {  // absolute: from the root of the rootfs
        canon.clear();
        fds.resize(1);
      }
      std::vector<std::string> parts;
      for (size_t start = 0; start <= target.size();) {
        size_t end = target.find('/', start);
        if (end == std::string::npos) end = target.size();
        parts.push_back(target.substr(start, end - start));
        start = end + 1;
      }
      todo.insert(todo.begin(), parts.begin(), parts.end());
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      if (!create) return std::nullopt;
      fail(shown(path) + " is not a directory");
    }
    Fd next(::openat(dirfd, c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) fail_errno("cannot open directory " + shown(path));
    canon.push_back(std::move(c));
    fds.push_back(std::move(next));
  }
  return Dir{std::move(fds.back()), canon_path()};
}

const RootfsWriter::Dir& RootfsWriter::parent_dir(const std::vector<std::string>& components) {
  std::string key;
  for (size_t i = 0; i + 1 < components.size(); ++i) key = join(key, components[i]);
  if (!cache_valid_ || cached_key_ != key) {
    std::vector<std::string> parent(components.begin(), components.end() - 1);
    cached_ = resolve_dir(parent, true);
    cached_key_ = key;
    cache_valid_ = true;
  }
  return *cached_;
}

bool RootfsWriter::remove_at(int dirfd, const std::string& name, const std::string& path,
                             bool keep_layer) {
  // Every removal may change what a remembered parent path resolves to.
  cache_valid_ = false;
  auto it = nodes_.find(path);
  bool keep = keep_layer && it != nodes_.end() && it->second.layer == layer_;
  struct stat st {};
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    fail_errno("cannot stat " + shown(path));
  }
  if (S_ISDIR(st.st_mode)) {
    Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) fail_errno("cannot open directory " + shown(path));
    std::vector<std::string> children;
    {
      DIR* d = ::fdopendir(::dup(fd.get()));
      if (!d) fail_errno("cannot list " + shown(path));
      while (dirent* ent = ::readdir(d)) {
        std::string child = ent->d_name;
        if (child != "." && child != "..") children.push_back(std::move(child));
      }
      ::closedir(d);
    }
    for (const std::string& child : children)
      keep |= remove_at(fd.get(), child, join(path, child), keep_layer);
    if (keep) return true;
    if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0)
      fail_errno("cannot remove directory " + shown(path));
  } else {
    if (keep) return true;
    if (::unlinkat(dirfd, name.c_str(), 0) != 0) fail_errno("cannot remove " + shown(path));
  }
  if (it != nodes_.end()) nodes_.erase(it);
  return false;
}

bool RootfsWriter::clear_for(const Dir& parent, const std::string& name, bool new_is_dir) {
  struct stat st {};
  if (::fstatat(parent.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    fail_errno("cannot stat " + shown(join(parent.path, name)));
  }
  if (S_ISDIR(st.st_mode) && new_is_dir) return true;
  remove_at(parent.fd.get(), name, join(parent.path, name), false);
  return false;
}

void RootfsWriter::whiteout(const std::vector<std::string>& parent, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
    fail("whiteout of '" + name + "' is not a valid name");
  std::optional<Dir> dir = resolve_dir(parent, false);
  if (!dir) return;  // nothing below a missing directory to hide
  remove_at(dir->fd.get(), name, join(dir->path, name), true);
}

void RootfsWriter::make_opaque(const std::vector<std::string>& components) {
  std::optional<Dir> dir = resolve_dir(components, false);
  if (!dir) return;
  std::vector<std::string> children;
  std::string prefix = dir->path.empty() ? "" : dir->path + "/";
  for (auto it = nodes_.lower_bound(prefix); it != nodes_.end() && starts_with(it->first, prefix);
       ++it) {
    if (it->first.empty()) continue;
    std::string rest = it->first.substr(prefix.size());
    if (rest.find('/') == std::string::npos) children.push_back(rest);
  }
  for (const std::string& child : children) remove_at(dir->fd.get(), child, prefix + child, true);
}

void RootfsWriter::write_data(archive* a, int fd, const std::string& path, int64_t size) {
  const void* block = nullptr;
  size_t len = 0;
  la_int64_t offset = 0;
  for (;;) {
    int rc = archive_read_data_block(a, &block, &len, &offset);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_OK)
      fail("cannot read data of " + shown(path) + ": " +
           (archive_error_string(a) ? archive_error_string(a) : "read error"));
    const char* p = static_cast<const char*>(block);
    while (len > 0) {  // offsets matter: sparse files arrive with holes between blocks
      ssize_t n = ::pwrite(fd, p, len, offset);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("cannot write " + shown(path));
      }
      p += n;
      len -= static_cast<size_t>(n);
      offset += n;
    }
  }
  if (::ftruncate(fd, size) != 0) fail_errno("cannot size " + shown(path));
}

void RootfsWriter::link(const Dir& parent, const std::string& name, const std::string& path,
                        const std::string& target) {
  std::vector<std::string> parts;
  try {
    parts = split_entry_name(target);
  } catch (const EntryError& err) {
    fail("hard link target '" + target + "': " + err.what());
  }
  if (parts.empty()) fail("hard link to the root directory");
  std::string base = parts.back();
  parts.pop_back();
  std::optional<Dir> tdir = resolve_dir(parts, false);
  std::string tpath = tdir ? join(tdir->path, base) : "";
  auto it = tdir ? nodes_.find(tpath) : nodes_.end();
  struct stat st {};
  if (it == nodes_.end() || ::fstatat(tdir->fd.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    fail("hard link to '" + target + "', which is not in the tree (yet)");
  if (S_ISDIR(st.st_mode)) fail("hard link to directory '" + target + "'");
  if (tpath == path) return;  // a link to itself changes nothing
  ownership::Entry meta = it->second.meta;
  clear_for(parent, name, false);
  if (::linkat(tdir->fd.get(), base.c_str(), parent.fd.get(), name.c_str(), 0) != 0)
    fail_errno("cannot link " + shown(path) + " to " + shown(tpath));
  meta.path = path;
  nodes_[path] = Node{std::move(meta), layer_};
}

void RootfsWriter::apply(archive* a, archive_entry* entry) {
  const char* raw = archive_entry_pathname(entry);
  if (!raw) fail("entry without a usable name");
  std::string name = raw;
  std::vector<std::string> parts = split_entry_name(name);
  const char* symlink = archive_entry_symlink(entry);
  const char* hardlink = archive_entry_hardlink(entry);
  if (!valid_utf8(name) || (symlink && !valid_utf8(symlink)) || (hardlink && !valid_utf8(hardlink)))
    fail("name or link target is not valid UTF-8, which the rootfs manifest cannot hold");

  ownership::Entry meta;
  int64_t uid = archive_entry_uid(entry), gid = archive_entry_gid(entry);
  if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
    fail("uid/gid out of range for '" + name + "'");
  meta.uid = static_cast<uint32_t>(uid);
  meta.gid = static_cast<uint32_t>(gid);
  meta.mode = archive_entry_perm(entry) & 07777;
  meta.mtime = archive_entry_mtime(entry);
  const char* xname = nullptr;
  const void* xvalue = nullptr;
  size_t xsize = 0;
  archive_entry_xattr_reset(entry);
  while (archive_entry_xattr_next(entry, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
    if (!valid_utf8(xname)) fail("an xattr name is not valid UTF-8");
    meta.xattrs[xname] = std::string(static_cast<const char*>(xvalue), xsize);
  }
  mode_t type = archive_entry_filetype(entry);

  if (parts.empty()) {  // the root directory itself ("./")
    if (type != AE_IFDIR) fail("entry '" + name + "' for the root is not a directory");
    if (::fchmod(root_.get(), disk_mode(meta.mode, true)) != 0) fail_errno("cannot chmod /");
    meta.type = ownership::EntryType::kDir;
    nodes_[""] = Node{std::move(meta), layer_};
    return;
  }
  const std::string& base = parts.back();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (starts_with(parts[i], kAufsMeta)) return;  // contents of AUFS metadata dirs
    // Whiteout names never reach the tree, not even as parents.
    if (starts_with(parts[i], kWhiteout)) fail("entry inside the whiteout '" + parts[i] + "'");
  }
  if (base == kOpaque) {
    parts.pop_back();
    return make_opaque(parts);
  }
  if (starts_with(base, kAufsMeta)) return;  // other AUFS metadata (.wh..wh.plnk, ...)
  if (starts_with(base, kWhiteout)) {
    std::string hidden = base.substr(kWhiteout.size());
    parts.pop_back();
    return whiteout(parts, hidden);
  }

  const Dir& parent = parent_dir(parts);
  std::string path = join(parent.path, base);
  const char* at = base.c_str();
  int dirfd = parent.fd.get();
  if (hardlink) return link(parent, base, path, hardlink);

  switch (type) {
    case AE_IFDIR:
      meta.type = ownership::EntryType::kDir;
      if (clear_for(parent, base, true)) {
        if (::fchmodat(dirfd, at, disk_mode(meta.mode, true), 0) != 0)
          fail_errno("cannot chmod " + shown(path));
      } else if (::mkdirat(dirfd, at, disk_mode(meta.mode, true)) != 0) {
        fail_errno("cannot create directory " + shown(path));
      }
      break;
    case AE_IFREG: {
      meta.type = ownership::EntryType::kFile;
      int64_t size = archive_entry_size(entry);
      meta.size = static_cast<uint64_t>(size < 0 ? 0 : size);
      clear_for(parent, base, false);
      Fd fd(::openat(dirfd, at, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd.valid()) fail_errno("cannot create " + shown(path));
      write_data(a, fd.get(), path, static_cast<int64_t>(meta.size));
      if (::fchmod(fd.get(), disk_mode(meta.mode, false)) != 0)
        fail_errno("cannot chmod " + shown(path));
      timespec times[2] = {{meta.mtime, 0}, {meta.mtime, archive_entry_mtime_nsec(entry)}};
      if (::futimens(fd.get(), times) != 0) fail_errno("cannot set mtime of " + shown(path));
      break;
    }
    case AE_IFLNK: {
      meta.type = ownership::EntryType::kSymlink;
      const char* target = symlink;
      if (!target || !*target) fail("symlink '" + name + "' has an empty target");
      meta.link = target;
      clear_for(parent, base, false);
      if (::symlinkat(target, dirfd, at) != 0) fail_errno("cannot create symlink " + shown(path));
      set_mtime(dirfd, at, meta.mtime, path);
      break;
    }
    case AE_IFIFO:
      meta.type = ownership::EntryType::kFifo;
      clear_for(parent, base, false);
      if (::mkfifoat(dirfd, at, disk_mode(meta.mode, false)) != 0)
        fail_errno("cannot create fifo " + shown(path));
      set_mtime(dirfd, at, meta.mtime, path);
      break;
    case AE_IFCHR:
    case AE_IFBLK: {
      // Never a real device node on the host: an empty placeholder file.
      meta.type =
          type == AE_IFCHR ? ownership::EntryType::kCharDevice : ownership::EntryType::kBlockDevice;
      meta.major = archive_entry_rdevmajor(entry);
      meta.minor = archive_entry_rdevminor(entry);
      clear_for(parent, base, false);
      Fd fd(::openat(dirfd, at, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!fd.valid()) fail_errno("cannot create device placeholder " + shown(path));
      set_mtime(dirfd, at, meta.mtime, path);
      break;
    }
    default:
      fail("entry '" + name + "' has unsupported type " + std::to_string(type) +
           " (only files, directories, symlinks, hard links, fifos and devices are allowed)");
  }
  meta.path = path;
  nodes_[path] = Node{std::move(meta), layer_};
}

void RootfsWriter::finish_dir(int fd, const std::string& path,
                              std::map<ino_t, std::vector<std::string>>& inodes) {
  DIR* d = ::fdopendir(::dup(fd));
  if (!d) fail_errno("cannot list " + shown(path));
  std::vector<std::string> children;
  while (dirent* ent = ::readdir(d)) {
    std::string child = ent->d_name;
    if (child != "." && child != "..") children.push_back(std::move(child));
  }
  ::closedir(d);
  for (const std::string& child : children) {
    std::string cpath = join(path, child);
    auto it = nodes_.find(cpath);
    // The manifest and the disk must agree; a difference is a bug here, not bad input.
    if (it == nodes_.end()) fail("internal error: " + shown(cpath) + " is not in the manifest");
    struct stat st {};
    if (::fstatat(fd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      fail_errno("cannot stat " + shown(cpath));
    const ownership::Entry& meta = it->second.meta;
    if (S_ISDIR(st.st_mode)) {
      Fd sub(::openat(fd, child.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) fail_errno("cannot open directory " + shown(cpath));
      finish_dir(sub.get(), cpath, inodes);
      // After the children: creating them changed this directory's mtime.
      timespec times[2] = {{meta.mtime, 0}, {meta.mtime, 0}};
      if (::futimens(sub.get(), times) != 0) fail_errno("cannot set mtime of " + shown(cpath));
    } else if (S_ISREG(st.st_mode) && st.st_nlink > 1 && meta.type == ownership::EntryType::kFile) {
      inodes[st.st_ino].push_back(cpath);
    }
  }
}

std::vector<ownership::Entry> RootfsWriter::finish() {
  std::map<ino_t, std::vector<std::string>> inodes;
  finish_dir(root_.get(), "", inodes);
  for (auto& [ino, paths] : inodes) {
    std::sort(paths.begin(), paths.end());
    for (size_t i = 1; i < paths.size(); ++i) nodes_.at(paths[i]).meta.hardlink = shown(paths[0]);
  }
  const ownership::Entry& root = nodes_.at("").meta;
  timespec times[2] = {{root.mtime, 0}, {root.mtime, 0}};
  if (::futimens(root_.get(), times) != 0) fail_errno("cannot set mtime of /");
  std::vector<ownership::Entry> entries;
  entries.reserve(nodes_.size());
  for (auto& [path, node] : nodes_) {
    node.meta.path = shown(path);
    entries.push_back(std::move(node.meta));
  }
  return entries;
}

}  // namespace c2w::unpack
