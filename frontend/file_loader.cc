#include "frontend/file_loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "graph/digest.h"

namespace c2w::frontend {
namespace fs = std::filesystem;
namespace {

// Length-prefixed so that no two different entry lists feed the same byte stream.
void feed(graph::Xxh3Hasher& hasher, std::string_view field) {
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

std::string mode_text(const fs::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path.string());
  return std::to_string(st.st_mode & 07777);
}

void feed_entry(graph::Xxh3Hasher& hasher, const fs::path& path, const std::string& relative) {
  fs::file_status status = fs::symlink_status(path);
  if (fs::is_symlink(status)) {
    feed(hasher, "l");
    feed(hasher, relative);
    feed(hasher, fs::read_symlink(path).string());
  } else if (fs::is_directory(status)) {
    feed(hasher, "d");
    feed(hasher, relative);
    feed(hasher, mode_text(path));
  } else if (fs::is_regular_file(status)) {
    feed(hasher, "f");
    feed(hasher, relative);
    feed(hasher, mode_text(path));
    feed(hasher, graph::xxh3_digest(file_bytes(path)));
  } else {
    throw std::runtime_error(path.string() + " is not a file, directory or symlink");
  }
}

}  // namespace

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

std::string DirectoryLoader::digest(const std::string& path) {
  fs::path root = resolve(path);
  graph::Xxh3Hasher hasher;
  feed_entry(hasher, root, ".");
  if (fs::is_directory(fs::symlink_status(root))) {
    std::vector<fs::path> entries;
    for (const auto& entry : fs::recursive_directory_iterator(root)) entries.push_back(entry);
    std::sort(entries.begin(), entries.end());
    for (const fs::path& entry : entries) {
      feed_entry(hasher, entry, entry.lexically_relative(root).generic_string());
    }
  }
  return hasher.finish();
}

std::string MemoryLoader::read_text(const std::string& path) {
  auto it = files_.find(normalize_context_path(path));
  if (it == files_.end()) throw std::runtime_error("\"" + path + "\" does not exist");
  return it->second;
}

std::string MemoryLoader::digest(const std::string& path) {
  std::string key = normalize_context_path(path);
  graph::Xxh3Hasher hasher;
  if (auto it = files_.find(key); it != files_.end()) {
    feed(hasher, "f");
    feed(hasher, ".");
    feed(hasher, graph::xxh3_digest(it->second));
    return hasher.finish();
  }
  std::string prefix = key == "." ? "" : key + "/";
  bool any = false;
  feed(hasher, "d");
  for (auto it = files_.lower_bound(prefix); it != files_.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    any = true;
    feed(hasher, "f");
    feed(hasher, it->first.substr(prefix.size()));
    feed(hasher, graph::xxh3_digest(it->second));
  }
  if (!any) throw std::runtime_error("\"" + path + "\" does not exist");
  return hasher.finish();
}

}  // namespace c2w::frontend
