#include "tests/support/cpio.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <stdexcept>

namespace c2w::testing {

std::vector<CpioEntry> read_cpio(const std::filesystem::path& file, std::string* filter) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_cpio(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 65536) != ARCHIVE_OK)
    throw std::runtime_error("cannot open " + file.string() + ": " + archive_error_string(a.get()));
  std::vector<CpioEntry> out;
  archive_entry* e;
  int r;
  while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
    CpioEntry c;
    c.name = archive_entry_pathname(e);
    c.type = archive_entry_filetype(e);
    c.perm = archive_entry_perm(e);
    c.uid = static_cast<uint32_t>(archive_entry_uid(e));
    c.gid = static_cast<uint32_t>(archive_entry_gid(e));
    c.mtime = archive_entry_mtime(e);
    c.ino = static_cast<uint64_t>(archive_entry_ino64(e));
    c.nlink = archive_entry_nlink(e);
    c.rdev_major = static_cast<unsigned>(archive_entry_rdevmajor(e));
    c.rdev_minor = static_cast<unsigned>(archive_entry_rdevminor(e));
    if (archive_entry_symlink(e)) c.symlink = archive_entry_symlink(e);
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) c.data.append(buf, n);
    if (n < 0) throw std::runtime_error("bad data for " + c.name);
    out.push_back(std::move(c));
  }
  if (r != ARCHIVE_EOF)
    throw std::runtime_error(std::string("bad archive: ") + archive_error_string(a.get()));
  if (filter) *filter = archive_filter_name(a.get(), 0);
  return out;
}

}  // namespace c2w::testing
