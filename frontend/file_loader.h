// How the frontend reaches files named in a recipe (CONFIG fragments, COPY sources, local
// kernel tarballs): always relative to a context directory, through this interface, so tests
// and the remote builder (which gets files from the client) can supply their own.
//
// Promise of every implementation: read_text() returns a file's bytes; digest() returns an
// "xxh3:<hex>" content digest of a file or directory tree that changes when and only when its
// content does (an implementation gives the same digest for the same content); both throw
// std::exception with a readable message when the path is missing, unreadable or outside the
// context. The frontend turns those into RecipeErrors pointing at the recipe line that named the
// path.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>

namespace c2w::frontend {

class FileLoader {
 public:
  virtual ~FileLoader() = default;
  virtual std::string read_text(const std::string& path) = 0;
  virtual std::string digest(const std::string& path) = 0;
};

// Files under a directory on this machine. Paths must stay inside it: absolute paths, `..`
// that climbs out, and symlinks that resolve outside are refused.
//
// Tree digest: entries sorted by path; each contributes its kind, relative path, permission
// bits and content (file bytes or symlink target). Owners and times are left out on purpose:
// they differ between checkouts of the same content and the rootfs does not keep them.
class DirectoryLoader final : public FileLoader {
 public:
  explicit DirectoryLoader(std::filesystem::path context);
  std::string read_text(const std::string& path) override;
  std::string digest(const std::string& path) override;

 private:
  std::filesystem::path resolve(const std::string& path) const;
  std::filesystem::path context_;
};

// Files held in memory (tests, or a builder that received them over the wire). A path is
// a file if it is a key, and a directory if keys exist below it ("dir/a", "dir/b").
class MemoryLoader final : public FileLoader {
 public:
  MemoryLoader() = default;
  MemoryLoader(std::initializer_list<std::pair<const std::string, std::string>> files)
      : files_(files) {}
  void add(std::string path, std::string content) { files_[std::move(path)] = std::move(content); }
  std::string read_text(const std::string& path) override;
  std::string digest(const std::string& path) override;

 private:
  std::map<std::string, std::string> files_;
};

// Lexically normalizes a context-relative path ("./a//b/../c" -> "a/c"); throws
// std::invalid_argument for absolute paths and paths that leave the context.
std::string normalize_context_path(const std::string& path);

}  // namespace c2w::frontend
