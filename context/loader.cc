#include "context/loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "graph/digest.h"

namespace c2w::context {
namespace fs = std::filesystem;
namespace {

void feed(Xxh3Hasher& hasher, std::string_view field) {
  std::string length = std::to_string(field.size()) + ":";
  hasher.update(length);
  hasher.update(field);
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read " + path.string());
  return out.str();
}

TreeEntry entry_of(const fs::path& path, const std::string& relative) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
  uint32_t mode = st.st_mode & 07777;
  if (S_ISLNK(st.st_mode)) return {'l', relative, 0, fs::read_symlink(path).string()};
  if (S_ISDIR(st.st_mode)) return {'d', relative, mode, ""};
  if (S_ISREG(st.st_mode)) return {'f', relative, mode, file_content_digest(path)};
  throw std::runtime_error(path.string() + " is not a file, directory or symlink");
}

}  // namespace

std::string file_content_digest(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  Xxh3Hasher hasher;
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    hasher.update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) throw std::runtime_error("cannot read " + path.string());
  return hasher.finish();
}

std::string tree_digest(std::vector<TreeEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  Xxh3Hasher hasher;
  for (const TreeEntry& e : entries) {
    feed(hasher, std::string_view(&e.kind, 1));
    feed(hasher, e.path);
    feed(hasher, std::to_string(e.mode));
    feed(hasher, e.content);
  }
  return hasher.finish();
}

std::string normalize_context_path(const std::string& path) {
  if (path.empty()) throw std::invalid_argument("empty path");
  if (path.front() == '/') {
    throw std::invalid_argument("\"" + path + "\" is absolute; paths are relative to the context");
  }
  std::vector<std::string> parts;
  std::istringstream in(path);
  std::string part;
  while (std::getline(in, part, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) throw std::invalid_argument("\"" + path + "\" leaves the context");
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out.empty() ? "." : out;
}

DirectoryLoader::DirectoryLoader(fs::path context) : context_(fs::weakly_canonical(context)) {
  // "ctx/" canonicalizes with an empty last component, which no path inside would match.
  if (context_.filename().empty()) context_ = context_.parent_path();
}

fs::path DirectoryLoader::resolve(const std::string& path) const {
  fs::path full = fs::weakly_canonical(context_ / normalize_context_path(path));
  auto [ctx_end, full_end] =
      std::mismatch(context_.begin(), context_.end(), full.begin(), full.end());
  if (ctx_end != context_.end()) {
    throw std::runtime_error("\"" + path + "\" resolves outside the context " + context_.string());
  }
  if (!fs::exists(full)) throw std::runtime_error("\"" + path + "\" does not exist");
  return full;
}

std::string DirectoryLoader::read_text(const std::string& path) {
  return file_bytes(resolve(path));
}

std::vector<DirectoryLoader::LocatedEntry> DirectoryLoader::entries(const std::string& path) {
  fs::path root = resolve(path);
  std::vector<LocatedEntry> out = {{entry_of(root, "."), root}};
  if (out.front().entry.kind == 'd') {
    for (const auto& item : fs::recursive_directory_iterator(root)) {
      out.push_back({entry_of(item.path(), item.path().lexically_relative(root).generic_string()),
                     item.path()});
    }
  }
  return out;
}

std::string DirectoryLoader::digest(const std::string& path) {
  std::vector<TreeEntry> tree;
  for (LocatedEntry& e : entries(path)) tree.push_back(std::move(e.entry));
  return tree_digest(std::move(tree));
}

MemoryLoader::MemoryLoader(std::initializer_list<std::pair<std::string, std::string>> files) {
  for (const auto& [path, content] : files) add(path, content);
}

void MemoryLoader::add(const std::string& path, std::string content, uint32_t mode) {
  files_[normalize_context_path(path)] = File{std::move(content), mode};
}

std::string MemoryLoader::read_text(const std::string& path) {
  auto it = files_.find(normalize_context_path(path));
  if (it == files_.end()) throw std::runtime_error("\"" + path + "\" does not exist");
  return it->second.content;
}

std::string MemoryLoader::digest(const std::string& path) {
  std::string key = normalize_context_path(path);
  if (auto it = files_.find(key); it != files_.end()) {
    return tree_digest({{'f', ".", it->second.mode, xxh3_digest(it->second.content)}});
  }
  std::string prefix = key == "." ? "" : key + "/";
  std::vector<TreeEntry> entries = {{'d', ".", 0755, ""}};
  std::set<std::string> dirs;
  for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    std::string relative = it->first.substr(prefix.size());
    for (size_t slash = relative.find('/'); slash != std::string::npos;
         slash = relative.find('/', slash + 1)) {
      if (dirs.insert(relative.substr(0, slash)).second) {
        entries.push_back({'d', relative.substr(0, slash), 0755, ""});
      }
    }
    entries.push_back({'f', relative, it->second.mode, xxh3_digest(it->second.content)});
  }
  if (entries.size() == 1) throw std::runtime_error("\"" + path + "\" does not exist");
  return tree_digest(std::move(entries));
}

}  // namespace c2w::context
