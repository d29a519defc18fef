#include "client/export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <vector>

#include "base/error.h"

namespace c2w::client {

namespace fs = std::filesystem;

void export_file(const fs::path& from, const fs::path& to) {
  fs::path tmp = to;
  tmp += ".c2w-tmp." + std::to_string(getpid());
  std::error_code ec;
  fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error("cannot write " + to.string() + ": " + ec.message(),
                "check that its directory exists and is writable");
  }
  fs::permissions(tmp,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                      fs::perms::others_read,
                  ec);
  fs::rename(tmp, to, ec);
  if (ec) {
    fs::remove(tmp);
    throw Error("cannot write " + to.string() + ": " + ec.message());
  }
}

void export_tree(const fs::path& from, const fs::path& dest) {
  std::error_code ec;
  if (fs::exists(dest) && !fs::is_empty(dest))
    throw Error("output directory " + dest.string() + " is not empty",
                "choose a new or empty dest=DIR");
  fs::create_directories(dest, ec);
  if (ec) throw Error("cannot create " + dest.string() + ": " + ec.message());
  struct Pending {
    fs::path path;
    mode_t mode;
    timespec mtime;
  };
  std::vector<Pending> dirs;                          // modes and times applied after the contents
  std::map<std::pair<dev_t, ino_t>, fs::path> links;  // hard links stay hard links
  auto fail = [](const fs::path& p, int err) {
    return system_error("cannot export " + p.string(), err);
  };
  for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator();
       ++it) {
    fs::path target = dest / it->path().lexically_relative(from);
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) throw fail(it->path(), errno);
    timespec times[2] = {st.st_mtim, st.st_mtim};
    if (S_ISDIR(st.st_mode)) {
      if (::mkdir(target.c_str(), 0700) != 0) throw fail(target, errno);
      dirs.push_back({target, st.st_mode & 07777, st.st_mtim});
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      fs::create_symlink(fs::read_symlink(it->path()), target);
    } else if (S_ISFIFO(st.st_mode)) {
      if (::mkfifo(target.c_str(), st.st_mode & 0777) != 0) throw fail(target, errno);
    } else if (S_ISREG(st.st_mode)) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (auto l = links.find(key); st.st_nlink > 1 && l != links.end()) {
        if (::link(l->second.c_str(), target.c_str()) != 0) throw fail(target, errno);
        continue;
      }
      fs::copy_file(it->path(), target, ec);
      if (ec)
        throw Error(
            "cannot copy " + it->path().string() + " to " + target.string() + ": " + ec.message(),
            ec.value() == ENOSPC ? "free space on the output's disk" : "");
      if (st.st_nlink > 1) links.emplace(key, target);
    } else {
      continue;  // sockets cannot be exported; unpack never makes them
    }
    ::utimensat(AT_FDCWD, target.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    timespec times[2] = {it->mtime, it->mtime};
    ::utimensat(AT_FDCWD, it->path.c_str(), times, 0);
    ::chmod(it->path.c_str(), it->mode);
  }
}

}  // namespace c2w::client
