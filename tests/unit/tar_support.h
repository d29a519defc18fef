// Test layers built in memory with libarchive: any entry a hostile or broken image could hold
// (absolute names, "..", links anywhere), optionally compressed, stored as a blob file named by
// its digest so unpack_layers can read it.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "oci/sha256.h"
#include "ops/unpack/unpack.h"

namespace c2w::testing {

struct TarEntry {
  std::string name;
  char type = 'f';  // f file, d dir, l symlink, h hard link, p fifo, c char dev, b block dev
  std::string data;
  std::string link;  // symlink or hard link target
  unsigned mode = 0644;
  unsigned uid = 0, gid = 0;
  long long mtime = 1700000000;
  unsigned major = 0, minor = 0;
  std::map<std::string, std::string> xattrs;
};

inline TarEntry entry(std::string name, char type, unsigned mode) {
  TarEntry t;
  t.name = std::move(name);
  t.type = type;
  t.mode = mode;
  return t;
}
inline TarEntry file(std::string name, std::string data, unsigned mode = 0644) {
  TarEntry t = entry(std::move(name), 'f', mode);
  t.data = std::move(data);
  return t;
}
inline TarEntry dir(std::string name, unsigned mode = 0755) {
  return entry(std::move(name), 'd', mode);
}
inline TarEntry symlink(std::string name, std::string target) {
  TarEntry t = entry(std::move(name), 'l', 0777);
  t.link = std::move(target);
  return t;
}
inline TarEntry hardlink(std::string name, std::string target) {
  TarEntry t = entry(std::move(name), 'h', 0644);
  t.link = std::move(target);
  return t;
}
inline TarEntry device(std::string name, char type, unsigned mode, unsigned major, unsigned minor) {
  TarEntry t = entry(std::move(name), type, mode);
  t.major = major;
  t.minor = minor;
  return t;
}

// A pax tar of `entries`, compressed with "none", "gzip", "zstd" or "xz".
inline std::string make_tar(const std::vector<TarEntry>& entries,
                            const std::string& compression = "none") {
  std::string out;
  archive* a = archive_write_new();
  auto check = [&](int rc, const std::string& what) {
    if (rc < ARCHIVE_WARN) throw std::runtime_error(what + ": " + archive_error_string(a));
  };
  check(archive_write_set_format_pax_restricted(a), "format");
  if (compression == "gzip") check(archive_write_add_filter_gzip(a), "gzip");
  if (compression == "zstd") check(archive_write_add_filter_zstd(a), "zstd");
  if (compression == "xz") check(archive_write_add_filter_xz(a), "xz");
  check(archive_write_set_bytes_in_last_block(a, 1), "block");
  auto sink = [](archive*, void* ctx, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  check(archive_write_open2(a, &out, nullptr, sink, nullptr, nullptr), "open");
  for (const TarEntry& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, t.name.c_str());
    archive_entry_set_perm(e, t.mode);
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, t.mtime, 0);
    switch (t.type) {
      case 'f':
        archive_entry_set_filetype(e, AE_IFREG);
        break;
      case 'd':
        archive_entry_set_filetype(e, AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_copy_symlink(e, t.link.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_copy_hardlink(e, t.link.c_str());
        break;
      case 'p':
        archive_entry_set_filetype(e, AE_IFIFO);
        break;
      case 'c':
      case 'b':
        archive_entry_set_filetype(e, t.type == 'c' ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdevmajor(e, t.major);
        archive_entry_set_rdevminor(e, t.minor);
        break;
      default:
        throw std::runtime_error("bad test entry type");
    }
    archive_entry_set_size(e, t.type == 'f' ? static_cast<la_int64_t>(t.data.size()) : 0);
    for (auto& [name, value] : t.xattrs)
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    check(archive_write_header(a, e), "header " + t.name);
    if (t.type == 'f' && !t.data.empty() && archive_write_data(a, t.data.data(), t.data.size()) < 0)
      throw std::runtime_error(std::string("data: ") + archive_error_string(a));
    archive_entry_free(e);
  }
  check(archive_write_close(a), "close");
  archive_write_free(a);
  return out;
}

// Stores `bytes` in `dir` as a blob named by its digest.
inline unpack::LayerBlob store_blob(const std::filesystem::path& dir, const std::string& bytes,
                                    const std::string& media_type) {
  std::filesystem::create_directories(dir);
  unpack::LayerBlob blob;
  blob.digest = oci::Sha256::of(bytes);
  blob.media_type = media_type;
  blob.file = dir / blob.digest.substr(7);
  std::ofstream(blob.file, std::ios::binary) << bytes;
  return blob;
}

}  // namespace c2w::testing
