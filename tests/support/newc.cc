#include "tests/support/newc.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace c2w::testing {

namespace fs = std::filesystem;

void NewcWriter::entry(const std::string& path, uint32_t mode, const std::string& data,
                       uint32_t rmajor, uint32_t rminor) {
  char header[111];
  const uint32_t fields[13] = {ino_++,
                               mode,
                               0,
                               0,
                               1,
                               0,
                               static_cast<uint32_t>(data.size()),
                               0,
                               0,
                               rmajor,
                               rminor,
                               static_cast<uint32_t>(path.size() + 1),
                               0};
  std::snprintf(header, sizeof header, "070701");
  for (int i = 0; i < 13; ++i) std::snprintf(header + 6 + 8 * i, 9, "%08X", fields[i]);
  out_.insert(out_.end(), header, header + 110);
  out_.insert(out_.end(), path.begin(), path.end());
  out_.push_back(0);
  while (out_.size() % 4) out_.push_back(0);
  out_.insert(out_.end(), data.begin(), data.end());
  while (out_.size() % 4) out_.push_back(0);
}

void NewcWriter::add_dir(const std::string& path, uint32_t mode) {
  entry(path, S_IFDIR | mode, "");
}
void NewcWriter::add_file(const std::string& path, const std::string& data, uint32_t mode) {
  entry(path, S_IFREG | mode, data);
}
void NewcWriter::add_symlink(const std::string& path, const std::string& target) {
  entry(path, S_IFLNK | 0777, target);
}
void NewcWriter::add_char_device(const std::string& path, uint32_t major, uint32_t minor,
                                 uint32_t mode) {
  entry(path, S_IFCHR | mode, "", major, minor);
}

void NewcWriter::add_tree(const fs::path& root) {
  std::vector<fs::path> children;
  for (const fs::directory_entry& e : fs::directory_iterator(root)) children.push_back(e.path());
  std::sort(children.begin(), children.end());
  // Recursion keeps each directory ahead of its contents.
  struct Walk {
    NewcWriter& w;
    const fs::path& base;
    void operator()(const fs::path& p) const {
      // Lexical: fs::relative would resolve symlinks (bin -> usr/bin) and rename entries.
      const std::string rel = p.lexically_relative(base).generic_string();
      struct stat st {};
      if (lstat(p.c_str(), &st) != 0) return;
      const uint32_t perm = st.st_mode & 07777;
      if (S_ISLNK(st.st_mode)) {
        w.add_symlink(rel, fs::read_symlink(p).string());
      } else if (S_ISDIR(st.st_mode)) {
        w.add_dir(rel, perm);
        std::vector<fs::path> kids;
        for (const fs::directory_entry& e : fs::directory_iterator(p)) kids.push_back(e.path());
        std::sort(kids.begin(), kids.end());
        for (const fs::path& k : kids) (*this)(k);
      } else if (S_ISREG(st.st_mode)) {
        std::ifstream f(p, std::ios::binary);
        w.add_file(rel, std::string(std::istreambuf_iterator<char>(f), {}), perm);
      }
    }
  };
  const Walk walk{*this, root};
  for (const fs::path& c : children) walk(c);
}

std::vector<uint8_t> NewcWriter::finish() {
  entry("TRAILER!!!", 0, "");
  return std::move(out_);
}

bool NewcWriter::write(const fs::path& out) {
  const std::vector<uint8_t> data = finish();
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return static_cast<bool>(f);
}

std::vector<uint8_t> busybox_initramfs(const fs::path& busybox_root,
                                       const std::string& init_script) {
  NewcWriter w;
  w.add_tree(busybox_root);
  for (const char* d : {"dev", "proc", "sys", "tmp"})
    if (!fs::exists(busybox_root / d)) w.add_dir(d);
  w.add_char_device("dev/console", 5, 1);
  w.add_file("init", "#!/bin/busybox sh\n" + init_script, 0755);
  return w.finish();
}

}  // namespace c2w::testing
