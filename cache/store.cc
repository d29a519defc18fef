#include "cache/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "base/error.h"
#include "base/fd.h"
#include "base/hash.h"

namespace c2w::cache {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::atomic<unsigned> tmp_counter{0};

std::string unique_suffix() {
  return std::to_string(getpid()) + "." + std::to_string(tmp_counter.fetch_add(1));
}

void write_or_throw(int fd, const void* data, size_t size, const fs::path& path) {
  if (!write_all(fd, std::string_view(static_cast<const char*>(data), size)))
    throw system_error("cannot write " + path.string(), errno);
}

// Writes `data` to a temp file in `tmp_dir` and renames it to `final_path`.
void write_atomic(const fs::path& tmp_dir, const fs::path& final_path, std::string_view data) {
  fs::path tmp = tmp_dir / ("put." + unique_suffix());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) throw system_error("cannot create " + tmp.string(), errno);
  try {
    write_or_throw(fd.get(), data.data(), data.size(), tmp);
    if (::fsync(fd.get()) != 0) throw system_error("cannot flush " + tmp.string(), errno);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  fd.reset();
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw system_error("cannot rename into " + final_path.string(), err);
  }
}

void touch(const fs::path& path) {
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);
}

int64_t mtime_of(const fs::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mtim.tv_sec : 0;
}

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json record_body(std::string_view key, const Record& r) {
  return json{{"key", key},           {"kind", r.kind == Record::Kind::kBlob ? "blob" : "tree"},
              {"content", r.content}, {"size", r.size},
              {"meta", r.meta},       {"description", r.description}};
}

}  // namespace

std::string digest_hex(std::string_view digest) {
  auto valid = [](std::string_view hex, size_t len) {
    return hex.size() == len && std::all_of(hex.begin(), hex.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
  };
  if (digest.starts_with("sha256:") && valid(digest.substr(7), 64))
    return std::string(digest.substr(7));
  if (digest.starts_with(kXxh3Prefix) && valid(digest.substr(kXxh3Prefix.size()), 32))
    return std::string(digest.substr(kXxh3Prefix.size()));
  throw Error("not a valid digest: '" + std::string(digest) + "'");
}

uint64_t disk_size(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(path, ec))) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
  }
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(path, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

// ---------------------------------------------------------------- BlobWriter

BlobWriter::~BlobWriter() {
  fd_.reset();
  if (!committed_ && !keep_partial_ && !tmp_path_.empty()) ::unlink(tmp_path_.c_str());
}

void BlobWriter::open_file(bool truncate) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (truncate ? O_TRUNC : 0);
  fd_.reset(::open(tmp_path_.c_str(), flags, 0644));
  if (!fd_.valid()) throw system_error("cannot create " + tmp_path_.string(), errno);
  struct stat st {};
  ::fstat(fd_.get(), &st);
  offset_ = static_cast<uint64_t>(st.st_size);
}

void BlobWriter::write(const void* data, size_t size) {
  write_or_throw(fd_.get(), data, size, tmp_path_);
}

void BlobWriter::write_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot open " + path.string());
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) write(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw Error("cannot read " + path.string());
}

void BlobWriter::restart() {
  open_file(true);
}

std::string BlobWriter::commit() {
  if (::fsync(fd_.get()) != 0) throw system_error("cannot flush " + tmp_path_.string(), errno);
  fd_.reset();
  std::string digest = oci::Sha256::of_file(tmp_path_);
  if (!expected_.empty() && digest != expected_) {
    ::unlink(tmp_path_.c_str());
    throw Error("downloaded blob " + expected_ + " does not match its digest (got " + digest + ")",
                "the registry or a proxy served wrong data; retry, and report it if it persists");
  }
  fs::path final_path = final_dir_ / digest_hex(digest);
  if (::rename(tmp_path_.c_str(), final_path.c_str()) != 0)
    throw system_error("cannot rename into " + final_path.string(), errno);
  committed_ = true;
  if (store_) store_->mark_verified(digest);
  return digest;
}

// ---------------------------------------------------------------- Store

Store::Store(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  for (const char* sub : {"blobs/sha256", "trees", "actions", "tmp", "locks"}) {
    fs::create_directories(root_ / sub, ec);
    if (ec)
      throw Error("cannot create the cache at " + root_.string() + ": " + ec.message(),
                  "choose a writable directory with --cache-dir");
  }
}

fs::path Store::default_root() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg) return fs::path(xdg) / "c2w";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".cache" / "c2w";
}

fs::path Store::root_or_default(const std::string& cache_dir) {
  return cache_dir.empty() ? default_root() : fs::path(cache_dir);
}

fs::path Store::blob_path(std::string_view digest) const {
  if (!digest.starts_with("sha256:"))
    throw Error("blobs are named by sha256, not '" + std::string(digest) + "'");
  return root_ / "blobs" / "sha256" / digest_hex(digest);
}

std::optional<fs::path> Store::blob(std::string_view digest) {
  fs::path path = blob_path(digest);
  if (!fs::exists(path)) return std::nullopt;
  {
    std::lock_guard lock(verified_mu_);
    if (verified_.count(std::string(digest))) return path;
  }
  if (oci::Sha256::of_file(path) != digest) {
    ::unlink(path.c_str());  // corrupt: never served; the caller refetches or recomputes
    return std::nullopt;
  }
  touch(path);
  std::lock_guard lock(verified_mu_);
  verified_.insert(std::string(digest));
  return path;
}

std::string Store::read_blob(std::string_view digest) {
  auto path = blob(digest);
  if (!path)
    throw Error("blob " + std::string(digest) + " is not in the cache at " + root_.string());
  return read_whole(*path);
}

std::string Store::put_blob(std::string_view data) {
  std::string digest = oci::Sha256::of(data);
  if (!blob(digest)) write_atomic(root_ / "tmp", blob_path(digest), data);
  mark_verified(digest);
  return digest;
}

void Store::mark_verified(const std::string& digest) {
  std::lock_guard lock(verified_mu_);
  verified_.insert(digest);
}

BlobWriter Store::write_blob(std::string_view expected_digest) {
  BlobWriter w;
  w.store_ = this;
  w.final_dir_ = root_ / "blobs" / "sha256";
  w.expected_ = std::string(expected_digest);
  if (expected_digest.empty()) {
    w.tmp_path_ = root_ / "tmp" / ("blob." + unique_suffix());
    w.open_file(true);
  } else {
    std::string hex = digest_hex(expected_digest);
    // One process at a time appends to a given partial download.
    w.lock_ = FileLock(root_ / "locks" / (hex + ".download"), FileLock::Mode::kExclusive);
    w.tmp_path_ = root_ / "tmp" / (hex + ".partial");
    w.keep_partial_ = true;
    w.open_file(false);
  }
  return w;
}

std::optional<fs::path> Store::tree(std::string_view id) const {
  fs::path path = root_ / "trees" / digest_hex(id);
  if (!fs::is_directory(path)) return std::nullopt;
  touch(path);
  return path;
}

fs::path Store::stage_tree() {
  std::string tmpl = (root_ / "tmp" / "tree.XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw system_error("cannot create a staging dir in " + root_.string(), errno);
  return tmpl;
}

fs::path Store::commit_tree(const fs::path& staged, std::string_view id) {
  fs::path final_path = root_ / "trees" / digest_hex(id);
  if (::rename(staged.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    if (err != EEXIST && err != ENOTEMPTY)
      throw system_error("cannot move tree into " + final_path.string(), err);
    std::error_code ec;  // another process produced the same tree first: keep theirs
    fs::remove_all(staged, ec);
  }
  return final_path;
}

void Store::discard(const fs::path& scratch) {
  fs::path trash = root_ / "tmp" / ("trash." + unique_suffix());
  if (::rename(scratch.c_str(), trash.c_str()) != 0) trash = scratch;
  // Everything the child needs is made before fork: after it only async-signal-safe calls.
  std::string path = trash.string();
  char rm[] = "/bin/rm", flags[] = "-rf", end[] = "--";
  char* argv[] = {rm, flags, end, path.data(), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    if (::fork() == 0) ::execve(rm, argv, envp);  // the grandchild outlives us; init reaps it
    _exit(0);
  }
  if (pid > 0) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  } else {
    std::error_code ec;
    fs::remove_all(trash, ec);  // cannot fork: remove it here
  }
}

std::optional<Record> Store::get_action(std::string_view key) {
  fs::path path = root_ / "actions" / (digest_hex(key) + ".json");
  std::string text = read_whole(path);
  if (text.empty()) return std::nullopt;
  auto drop = [&]() -> std::optional<Record> {
    ::unlink(path.c_str());
    return std::nullopt;
  };
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("check") || !j.contains("body")) return drop();
  if (xxh3_digest(j["body"].dump()) != j["check"] || j["body"].value("key", "") != key)
    return drop();
  const json& b = j["body"];
  Record r;
  r.kind = b.value("kind", "") == "tree" ? Record::Kind::kTree : Record::Kind::kBlob;
  r.content = b.value("content", "");
  r.size = b.value("size", uint64_t{0});
  r.meta = b.value("meta", json::object());
  r.description = b.value("description", "");
  bool present = r.kind == Record::Kind::kTree ? tree(r.content).has_value()
                                               : fs::exists(blob_path(r.content));
  if (!present) return drop();
  touch(path);
  return r;
}

void Store::put_action(std::string_view key, const Record& record) {
  json body = record_body(key, record);
  json j = {{"body", body}, {"check", xxh3_digest(body.dump())}};
  write_atomic(root_ / "tmp", root_ / "actions" / (digest_hex(key) + ".json"), j.dump());
}

FileLock Store::use() const {
  return FileLock(root_ / "lock", FileLock::Mode::kShared);
}

FileLock Store::lock_key(std::string_view key) const {
  return FileLock(root_ / "locks" / (digest_hex(key) + ".lock"), FileLock::Mode::kExclusive);
}

std::vector<Store::Entry> Store::usage() const {
  std::vector<Entry> out;
  std::map<std::string, std::string> described;  // content -> description
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / "actions", ec)) {
    json j = json::parse(read_whole(e.path()), nullptr, false);
    if (j.is_discarded() || !j.contains("body")) continue;
    const json& b = j["body"];
    described[b.value("content", "")] = b.value("description", "");
    out.push_back({"action", e.path().stem().string(), disk_size(e.path()), mtime_of(e.path()),
                   b.value("description", "")});
  }
  for (const auto& e : fs::directory_iterator(root_ / "blobs" / "sha256", ec)) {
    std::string id = "sha256:" + e.path().filename().string();
    out.push_back({"blob", id, disk_size(e.path()), mtime_of(e.path()), described[id]});
  }
  for (const auto& e : fs::directory_iterator(root_ / "trees", ec)) {
    // Trees are named by xxh3 ids or, for unpacked images, by their sha256 ChainID.
    std::string name = e.path().filename().string();
    std::string id = (name.size() == 64 ? "sha256:" : std::string(kXxh3Prefix)) + name;
    out.push_back({"tree", id, disk_size(e.path()), mtime_of(e.path()), described[id]});
  }
  return out;
}

Store::PruneResult Store::prune(uint64_t keep_bytes, bool all) {
  FileLock exclusive = FileLock::try_lock(root_ / "lock", FileLock::Mode::kExclusive);
  if (!exclusive.held())
    throw Error("the cache at " + root_.string() + " is in use by a running build",
                "wait for it to finish, then prune again");
  std::vector<Entry> entries = usage();
  uint64_t total = 0;
  for (const Entry& e : entries) total += e.size;
  // Oldest first; action records go with the data they describe (a record whose output is
  // gone reads as a miss anyway), so only blobs and trees are weighed.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.last_used < b.last_used; });
  PruneResult result;
  std::error_code ec;
  for (const Entry& e : entries) {
    if (!all && total <= keep_bytes) break;
    if (e.kind == "action" && !all) continue;
    fs::path path = e.kind == "blob"   ? root_ / "blobs" / "sha256" / digest_hex(e.id)
                    : e.kind == "tree" ? root_ / "trees" / digest_hex(e.id)
                                       : root_ / "actions" / (e.id + ".json");
    fs::remove_all(path, ec);
    total -= std::min(total, e.size);
    result.removed_bytes += e.size;
    ++result.removed_entries;
  }
  if (all) {
    for (const auto& e : fs::directory_iterator(root_ / "tmp", ec)) fs::remove_all(e.path(), ec);
  }
  return result;
}

}  // namespace c2w::cache
