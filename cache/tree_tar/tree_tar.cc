#include "cache/tree_tar/tree_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "base/error.h"

namespace c2w::cache {

namespace {

namespace fs = std::filesystem;

struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// Collects the archive's output and hands it on in `chunk`-sized pieces.
struct Output {
  size_t chunk;
  const std::function<bool(std::string_view)>& sink;
  std::string pending;
  bool stopped = false;
  bool flush(bool all) {
    while (!stopped && (pending.size() >= chunk || (all && !pending.empty()))) {
      size_t n = std::min(pending.size(), chunk);
      if (!sink(std::string_view(pending).substr(0, n))) stopped = true;
      pending.erase(0, n);
    }
    return !stopped;
  }
};

la_ssize_t write_cb(archive*, void* data, const void* buf, size_t size) {
  auto* out = static_cast<Output*>(data);
  out->pending.append(static_cast<const char*>(buf), size);
  return out->flush(false) ? static_cast<la_ssize_t>(size) : -1;
}

Error archive_error(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Error(what + ": " + (msg ? msg : "unknown libarchive error"));
}

}  // namespace

bool write_tree_tar(const fs::path& root, size_t chunk,
                    const std::function<bool(std::string_view)>& sink) {
  std::unique_ptr<archive, WriteFree> a(archive_write_new());
  archive_write_set_format_pax(a.get());              // full pax: nanosecond mtimes
  archive_write_set_bytes_in_last_block(a.get(), 1);  // no padding to 10 KiB at the end
  Output out{chunk, sink, {}};
  if (archive_write_open2(a.get(), &out, nullptr, write_cb, nullptr, nullptr) != ARCHIVE_OK)
    throw archive_error(a.get(), "cannot start a tar of " + root.string());
  std::map<std::pair<dev_t, ino_t>, std::string> links;  // hard links stay hard links
  std::string buf(256 << 10, '\0');
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string name = it->path().lexically_relative(root).generic_string();
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0)
      throw system_error("cannot read " + it->path().string(), errno);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) &&
        !S_ISFIFO(st.st_mode))
      continue;  // sockets and devices: export_tree leaves them out too
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_mode(e.get(), st.st_mode);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    bool with_data = false;
    if (S_ISLNK(st.st_mode)) {
      archive_entry_set_symlink(e.get(), fs::read_symlink(it->path()).c_str());
    } else if (S_ISREG(st.st_mode)) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto l = links.find(key);
      if (st.st_nlink > 1 && l != links.end()) {
        archive_entry_set_hardlink(e.get(), l->second.c_str());
      } else {
        if (st.st_nlink > 1) links.emplace(key, name);
        archive_entry_set_size(e.get(), st.st_size);
        with_data = true;
      }
    }
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) {
      if (out.stopped) return false;
      throw archive_error(a.get(), "cannot add " + name + " to the tar");
    }
    if (!with_data) continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in) throw Error("cannot read " + it->path().string());
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      auto n = static_cast<size_t>(in.gcount());
      if (n && archive_write_data(a.get(), buf.data(), n) < 0) {
        if (out.stopped) return false;
        throw archive_error(a.get(), "cannot add " + name + " to the tar");
      }
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK && !out.stopped)
    throw archive_error(a.get(), "cannot finish the tar of " + root.string());
  return out.flush(true);
}

namespace {

struct Input {
  const std::function<std::string_view()>& source;
  std::string_view last;
};

// `base`/`name`, refusing names that are absolute or climb with `..`.
fs::path inside(const fs::path& base, const std::string& name) {
  fs::path p(name);
  if (name.empty() || p.is_absolute())
    throw Error("the tree's tar names \"" + name + "\", which is not a relative path");
  for (const auto& part : p)
    if (part == "..") throw Error("the tree's tar names \"" + name + "\", which leaves the tree");
  return base / p;
}

la_ssize_t read_cb(archive*, void* data, const void** buf) {
  auto* in = static_cast<Input*>(data);
  in->last = in->source();
  *buf = in->last.data();
  return static_cast<la_ssize_t>(in->last.size());
}

}  // namespace

void read_tree_tar(const std::function<std::string_view()>& source, const fs::path& dest) {
  std::unique_ptr<archive, ReadFree> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  Input in{source, {}};
  if (archive_read_open(a.get(), &in, nullptr, read_cb, nullptr) != ARCHIVE_OK)
    throw archive_error(a.get(), "cannot read the tree's tar");
  std::unique_ptr<archive, WriteFree> disk(archive_write_disk_new());
  // Entries are placed under the canonical destination (no symlink in it for the check below
  // to trip on); libarchive refuses to go through a symlink inside it or to use `..`.
  archive_write_disk_set_options(disk.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                                 ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  const fs::path base = fs::canonical(dest);
  archive_entry* e = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK) throw archive_error(a.get(), "the tree's tar is damaged");
    const std::string name = archive_entry_pathname(e);
    archive_entry_set_pathname(e, inside(base, name).c_str());
    if (const char* hl = archive_entry_hardlink(e))
      archive_entry_set_hardlink(e, inside(base, hl).c_str());
    if (archive_write_header(disk.get(), e) != ARCHIVE_OK)
      throw archive_error(disk.get(), "cannot create " + name);
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((rc = archive_read_data_block(a.get(), &block, &size, &offset)) == ARCHIVE_OK)
      if (archive_write_data_block(disk.get(), block, size, offset) != ARCHIVE_OK)
        throw archive_error(disk.get(), "cannot write " + name);
    if (rc != ARCHIVE_EOF) throw archive_error(a.get(), "the tree's tar is damaged at " + name);
    if (archive_write_finish_entry(disk.get()) != ARCHIVE_OK)
      throw archive_error(disk.get(), "cannot finish " + name);
  }
  if (archive_write_close(disk.get()) != ARCHIVE_OK)  // directory modes and times, last
    throw archive_error(disk.get(), "cannot finish the tree in " + dest.string());
}

}  // namespace c2w::cache
