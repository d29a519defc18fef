// How the frontend reaches files named in a recipe (CONFIG fragments, COPY sources, local
// kernel tarballs): always relative to a context directory, through this interface, so tests
// and the remote builder (which gets files from the client) can supply their own.
//
// Promise of every implementation: read_text() returns a file's bytes; digest() returns
// tree_digest() of the file or directory tree, so the same content gives the same digest
// whichever loader read it (the client's DirectoryLoader and a remote builder's MemoryLoader
// agree, and so do their cache keys); both throw
// std::exception with a readable message when the path is missing, unreadable or outside the
// context. The frontend turns those into RecipeErrors pointing at the recipe line that named the
// path.
#pragma once

#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace c2w::context {

// One entry of a file tree, as far as content digests are concerned.
struct TreeEntry {
  char kind;            // 'f' regular file, 'd' directory, 'l' symlink
  std::string path;     // relative to the digested root, '/'-separated; "." is the root
  uint32_t mode;        // permission bits (07777); 0 for symlinks
  std::string content;  // 'f': xxh3 digest of the bytes; 'l': the link target; 'd': empty
};

// "xxh3:<hex>" over the entries sorted by path, each field length-prefixed so different trees
// never feed the same bytes. Owners and times are left out on purpose: they differ between
// checkouts of the same content, and the rootfs does not keep the client's anyway.
std::string tree_digest(std::vector<TreeEntry> entries);

// TreeEntry::content of a regular file: the xxh3 digest of its bytes, read in pieces.
std::string file_content_digest(const std::filesystem::path& path);

class FileLoader {
 public:
  virtual ~FileLoader() = default;
  virtual std::string read_text(const std::string& path) = 0;
  virtual std::string digest(const std::string& path) = 0;
};

// Files under a directory on this machine. Paths must stay inside it: absolute paths, `..`
// that climbs out, and symlinks that resolve outside are refused.
class DirectoryLoader final : public FileLoader {
 public:
  explicit DirectoryLoader(std::filesystem::path context);
  std::string read_text(const std::string& path) override;
  std::string digest(const std::string& path) override;

  // What digest() digests, each entry with its path on this machine (what a client uploads to
  // a remote builder).
  struct LocatedEntry {
    TreeEntry entry;
    std::filesystem::path source;
  };
  std::vector<LocatedEntry> entries(const std::string& path);

 private:
  std::filesystem::path resolve(const std::string& path) const;
  std::filesystem::path context_;
};

// Files held in memory (tests, or a builder that received them over the wire). A path is
// a file if it is a key, and a directory if keys exist below it ("dir/a", "dir/b").
// Files have mode 0644 unless given; directories are implied, with mode 0755.
class MemoryLoader final : public FileLoader {
 public:
  MemoryLoader() = default;
  MemoryLoader(std::initializer_list<std::pair<std::string, std::string>> files);
  void add(const std::string& path, std::string content, uint32_t mode = 0644);
  std::string read_text(const std::string& path) override;
  std::string digest(const std::string& path) override;

 private:
  struct File {
    std::string content;
    uint32_t mode;
  };
  std::map<std::string, File> files_;  // by normalized path
};

// Lexically normalizes a context-relative path ("./a//b/../c" -> "a/c"); throws
// std::invalid_argument for absolute paths and paths that leave the context.
std::string normalize_context_path(const std::string& path);

}  // namespace c2w::context
