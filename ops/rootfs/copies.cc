#include "ops/rootfs/copies.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <system_error>

namespace c2w::rootfs {

namespace {

namespace fs = std::filesystem;
using ownership::Entry;
using ownership::EntryType;

constexpr int kMaxLinks = 40;  // as Linux's MAXSYMLINKS

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

ownership::Entry root_owned(std::string path, ownership::EntryType type, uint32_t mode) {
  ownership::Entry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  return e;
}

class Applier {
 public:
  explicit Applier(std::vector<ownership::Entry> manifest) {
    for (ownership::Entry& e : manifest) tree_.emplace(e.path, std::move(e));
    if (!tree_.count("/")) tree_.emplace("/", root_owned("/", ownership::EntryType::kDir, 0755));
  }

  void apply(const CopySource& c) {
    what_ = "COPY " + c.name + " " + c.dst;
    if (c.dst.empty() || c.dst[0] != '/') fail("the destination is not absolute");
    std::error_code ec;
    fs::file_status st = fs::symlink_status(c.path, ec);
    if (ec || !fs::exists(st)) fail("the source " + c.path.string() + " cannot be read");
    if (fs::is_directory(st)) {
      std::string base = resolve(c.dst, true);
      std::vector<fs::path> rels;
      for (auto it = fs::recursive_directory_iterator(c.path); it != fs::end(it); ++it)
        rels.push_back(it->path().lexically_relative(c.path));  // relative() resolves links
      std::sort(rels.begin(), rels.end());                      // parents before their contents
      for (const fs::path& rel : rels) place(join(base, rel.generic_string()), c.path / rel);
      return;
    }
    bool into_dir = c.dst.back() == '/' || resolve(c.dst, false) != "";
    std::string target;
    if (into_dir) {
      std::string name = fs::path(c.name).filename().string();
      if (name.empty() || name == "." || name == "..") fail("the source names no file");
      target = join(resolve(c.dst, true), name);
    } else {
      std::vector<std::string> parts = split(c.dst);
      if (parts.back() == "." || parts.back() == "..") fail("the destination names no file");
      target = join(resolve(parent_of("/" + join_parts(parts)), true), parts.back());
    }
    place(target, c.path);
  }

  Overlay finish() {
    regroup_links();
    Overlay o;
    for (auto& [path, e] : tree_) o.manifest.push_back(std::move(e));
    o.files = std::move(files_);
    return o;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error(what_ + ": " + why);
  }

  static std::string join_parts(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
    return out;
  }

  // The real path of the directory `path` names, following the image's symlinks inside the
  // rootfs. With `create`, missing directories are made (root, 0755) and anything that is
  // not a directory is an error; without, "" when the path is not an existing directory.
  std::string resolve(const std::string& path, bool create, int links = 0) {
    if (links > kMaxLinks) fail("too many levels of symbolic links at " + path);
    std::string cur = "/";
    for (const std::string& part : split(path)) {
      if (part == ".") continue;
      if (part == "..") {
        cur = parent_of(cur);
        continue;
      }
      std::string next = join(cur, part);
      auto it = tree_.find(next);
      if (it == tree_.end()) {
        if (!create) return "";
        tree_.emplace(next, root_owned(next, ownership::EntryType::kDir, 0755));
        cur = next;
      } else if (it->second.type == ownership::EntryType::kSymlink) {
        const std::string& link = it->second.link;
        cur = resolve(link.starts_with("/") ? link : join(cur, link), create, links + 1);
        if (cur.empty()) return "";
      } else if (it->second.type == ownership::EntryType::kDir) {
        cur = next;
      } else {
        if (!create) return "";
        fail(next + " is not a directory in the image");
      }
    }
    return cur;
  }

  void place(const std::string& path, const fs::path& source) {
    std::error_code ec;
    fs::file_status st = fs::symlink_status(source, ec);
    if (ec) fail("cannot read " + source.string());
    uint32_t mode = static_cast<uint32_t>(st.permissions()) & 07777;
    ownership::Entry e = root_owned(path, ownership::EntryType::kFile, mode);
    if (fs::is_symlink(st)) {
      e.type = ownership::EntryType::kSymlink;
      e.mode = 0777;
      e.link = fs::read_symlink(source, ec).string();
      if (ec) fail("cannot read the link " + source.string());
    } else if (fs::is_directory(st)) {
      e.type = ownership::EntryType::kDir;
    } else if (fs::is_regular_file(st)) {
      e.size = fs::file_size(source, ec);
      if (ec) fail("cannot read " + source.string());
      files_[path] = source;
    } else {
      fail(source.string() + ": only files, directories and symlinks can be copied");
    }
    auto it = tree_.find(path);
    if (it != tree_.end()) {
      if (it->second.type == ownership::EntryType::kDir && e.type == ownership::EntryType::kDir)
        return;  // merge
      remove(path);
    }
    tree_.emplace(path, std::move(e));
  }

  void remove(const std::string& path) {
    std::string prefix = path + "/";
    for (auto it = tree_.find(path); it != tree_.end();) {
      if (it->first != path && !it->first.starts_with(prefix)) break;
      replaced_.insert(it->first);
      files_.erase(it->first);
      it = tree_.erase(it);
    }
  }

  // A hard-link group whose first name was replaced continues under its next name (its bytes
  // are the same inode on disk, so <rootfs>/<next name> holds them).
  void regroup_links() {
    std::map<std::string, std::vector<std::string>> orphans;  // old first name -> members
    for (auto& [path, e] : tree_)
      if (!e.hardlink.empty() && replaced_.count(e.hardlink)) orphans[e.hardlink].push_back(path);
    for (auto& [old, members] : orphans) {
      tree_.at(members[0]).hardlink.clear();
      for (size_t i = 1; i < members.size(); ++i) tree_.at(members[i]).hardlink = members[0];
    }
  }

  std::map<std::string, ownership::Entry> tree_;  // sorted by path bytewise, like the manifest
  std::map<std::string, fs::path> files_;
  std::set<std::string> replaced_;
  std::string what_;
};

}  // namespace

Overlay apply_copies(std::vector<ownership::Entry> manifest,
                     const std::vector<CopySource>& copies) {
  Applier applier(std::move(manifest));
  for (const CopySource& c : copies) applier.apply(c);
  return applier.finish();
}

}  // namespace c2w::rootfs
