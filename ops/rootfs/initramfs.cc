#include "ops/rootfs/initramfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "base/fd.h"

namespace c2w::rootfs {

namespace {

namespace fs = std::filesystem;
using ownership::EntryType;

// One cpio member before it is written.
struct Member {
  std::string name;  // relative, no leading '/'
  ownership::Entry meta;
  std::string_view data;  // contents held in memory (init, config)
  fs::path file;          // contents read from disk (rootfs files)
  bool has_data = false;  // false for later names of a hard-link group
  uint32_t ino = 0;
  uint32_t nlink = 1;
};

ownership::Entry synthetic(ownership::EntryType type, uint32_t mode) {
  ownership::Entry e;
  e.type = type;
  e.mode = mode;
  return e;
}

// libarchive calls back into C++ here; exceptions must not cross it, so they are parked and
// rethrown once libarchive returns.
struct ZstdSink {
  const std::function<void(const void*, size_t)>* out;
  ZSTD_CCtx* cctx = nullptr;
  std::string buffer = std::string(ZSTD_CStreamOutSize(), '\0');
  uint64_t in_bytes = 0, out_bytes = 0;
  std::exception_ptr error;

  void feed(const void* data, size_t size, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in = {data, size, 0};
    while (true) {
      ZSTD_outBuffer o = {buffer.data(), buffer.size(), 0};
      size_t left = ZSTD_compressStream2(cctx, &o, &in, mode);
      if (ZSTD_isError(left))
        throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(left));
      if (o.pos) (*out)(buffer.data(), o.pos);
      out_bytes += o.pos;
      bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
      if (done) return;
    }
  }
};

la_ssize_t on_write(struct archive*, void* ctx, const void* data, size_t size) {
  auto* sink = static_cast<ZstdSink*>(ctx);
  try {
    sink->feed(data, size, ZSTD_e_continue);
    sink->in_bytes += size;
    return static_cast<la_ssize_t>(size);
  } catch (...) {
    sink->error = std::current_exception();
    return -1;
  }
}

class Writer {
 public:
  explicit Writer(ZstdSink& sink) : sink_(sink), a_(archive_write_new()) {
    if (!a_) throw std::bad_alloc();
    archive_write_set_format_cpio_newc(a_);
    archive_write_set_bytes_per_block(a_, 0);  // no padding to a block size
    check(archive_write_open2(a_, &sink_, nullptr, on_write, nullptr, nullptr), "open");
  }
  ~Writer() { archive_write_free(a_); }

  void add(const Member& m) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    archive_entry_copy_pathname(e.get(), m.name.c_str());
    const ownership::Entry& x = m.meta;
    static const std::map<ownership::EntryType, unsigned> kTypes = {
        {ownership::EntryType::kFile, AE_IFREG},
        {ownership::EntryType::kDir, AE_IFDIR},
        {ownership::EntryType::kSymlink, AE_IFLNK},
        {ownership::EntryType::kFifo, AE_IFIFO},
        {ownership::EntryType::kCharDevice, AE_IFCHR},
        {ownership::EntryType::kBlockDevice, AE_IFBLK}};
    archive_entry_set_filetype(e.get(), kTypes.at(x.type));
    archive_entry_set_perm(e.get(), x.mode & 07777);
    archive_entry_set_uid(e.get(), x.uid);
    archive_entry_set_gid(e.get(), x.gid);
    // newc times are unsigned 32-bit; out-of-range image times are clamped, not refused.
    archive_entry_set_mtime(e.get(), std::clamp<int64_t>(x.mtime, 0, 0xffffffffll), 0);
    archive_entry_set_ino(e.get(), m.ino);
    archive_entry_set_nlink(e.get(), m.nlink);
    archive_entry_set_dev(e.get(), 0);
    if (x.type == ownership::EntryType::kCharDevice ||
        x.type == ownership::EntryType::kBlockDevice) {
      archive_entry_set_rdevmajor(e.get(), x.major);
      archive_entry_set_rdevminor(e.get(), x.minor);
    }
    if (x.type == ownership::EntryType::kSymlink)
      archive_entry_copy_symlink(e.get(), x.link.c_str());
    uint64_t size = x.type == ownership::EntryType::kFile && m.has_data ? x.size : 0;
    if (size > 0xffffffffull)
      throw std::runtime_error(m.meta.path + ": files over 4 GiB do not fit in a newc archive");
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    check(archive_write_header(a_, e.get()), m.name);
    if (!size) return;
    if (m.file.empty()) {
      data(m.data.data(), m.data.size(), m.name);
      return;
    }
    copy_file(m, size);
  }

  void finish() { check(archive_write_close(a_), "close"); }

 private:
  void check(int r, const std::string& what) {
    if (sink_.error) std::rethrow_exception(sink_.error);
    if (r < ARCHIVE_WARN)
      throw std::runtime_error("writing the initramfs (" + what +
                               "): " + (archive_error_string(a_) ? archive_error_string(a_) : "?"));
  }
  void data(const void* p, size_t n, const std::string& what) {
    la_ssize_t w = archive_write_data(a_, p, n);
    check(w < 0 ? static_cast<int>(w) : ARCHIVE_OK, what);
    if (static_cast<size_t>(w) != n) throw std::runtime_error("short write for " + what);
  }
  void copy_file(const Member& m, uint64_t size) {
    Fd fd(::open(m.file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) != size) {
      throw std::runtime_error(m.meta.path + ": the unpacked tree does not match its manifest " +
                               "(missing, not a file or another size)");
    }
    std::string buf(1 << 16, '\0');
    uint64_t left = size;
    while (left) {
      ssize_t n = ::read(fd.get(), buf.data(), std::min<uint64_t>(buf.size(), left));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error(m.meta.path + ": read failed or the file shrank");
      data(buf.data(), static_cast<size_t>(n), m.name);
      left -= static_cast<uint64_t>(n);
    }
  }

  ZstdSink& sink_;
  struct archive* a_;
};

std::vector<Member> plan_members(const InitramfsSpec& spec, const std::string& config) {
  std::vector<Member> members;
  auto add = [&](std::string name, ownership::Entry meta, std::string_view data = {}) {
    Member m;
    m.name = std::move(name);
    m.meta = std::move(meta);
    m.meta.size = data.size();
    m.data = data;
    m.has_data = true;
    members.push_back(std::move(m));
  };
  add("init", synthetic(ownership::EntryType::kFile, 0755), spec.init);
  add("dev", synthetic(ownership::EntryType::kDir, 0755));
  ownership::Entry console = synthetic(ownership::EntryType::kCharDevice, 0600);
  console.major = 5;
  console.minor = 1;
  add("dev/console", console);
  add("proc", synthetic(ownership::EntryType::kDir, 0555));
  add("sys", synthetic(ownership::EntryType::kDir, 0555));
  add("c2w", synthetic(ownership::EntryType::kDir, 0700));
  add("c2w/config", synthetic(ownership::EntryType::kFile, 0600), config);

  std::map<std::string, size_t> group_size;  // hard-link group (first path) -> names
  for (const ownership::Entry& e : spec.manifest)
    if (!e.hardlink.empty()) ++group_size[e.hardlink];
  for (const ownership::Entry& e : spec.manifest) {
    if (e.path.empty() || e.path[0] != '/')
      throw std::runtime_error("manifest path \"" + e.path + "\" is not absolute");
    Member m;
    m.name = e.path == "/" ? "c2w/rootfs" : "c2w/rootfs" + e.path;
    m.meta = e;
    m.has_data = e.hardlink.empty();
    if (e.type == ownership::EntryType::kFile && m.has_data) {
      auto copied = spec.files.find(e.path);
      m.file = copied != spec.files.end() ? copied->second : spec.rootfs / e.path.substr(1);
    }
    auto group = group_size.find(e.hardlink.empty() ? e.path : e.hardlink);
    if (group != group_size.end()) m.nlink = static_cast<uint32_t>(group->second + 1);
    members.push_back(std::move(m));
  }
  std::sort(members.begin(), members.end(),
            [](const Member& a, const Member& b) { return a.name < b.name; });
  std::map<std::string, uint32_t> ino_of;  // hard-link group -> inode number
  uint32_t next = 1;
  for (Member& m : members) {
    const std::string& key = m.meta.hardlink.empty() ? m.name : "c2w/rootfs" + m.meta.hardlink;
    auto [it, fresh] = ino_of.emplace(key, next);
    if (fresh) ++next;
    m.ino = it->second;
  }
  return members;
}

}  // namespace

InitramfsStats write_initramfs(const InitramfsSpec& spec,
                               const std::function<void(const void*, size_t)>& out,
                               const std::function<void(size_t, size_t)>& tick) {
  guest_protocol::ImageConfig config = spec.config;
  for (const ownership::Entry& e : spec.manifest)
    for (const auto& [name, value] : e.xattrs) config.xattrs.push_back({e.path, name, value});
  std::string config_bytes = guest_protocol::encode(config);
  std::vector<Member> members = plan_members(spec, config_bytes);

  ZstdSink sink;
  sink.out = &out;
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  if (!cctx) throw std::bad_alloc();
  sink.cctx = cctx.get();
  ZSTD_CCtx_setParameter(sink.cctx, ZSTD_c_compressionLevel, kZstdLevel);
  ZSTD_CCtx_setParameter(sink.cctx, ZSTD_c_checksumFlag, 1);
  {
    Writer w(sink);
    for (size_t i = 0; i < members.size(); ++i) {
      if (tick) tick(i, members.size());
      w.add(members[i]);
    }
    w.finish();
  }
  sink.feed(nullptr, 0, ZSTD_e_end);
  InitramfsStats stats;
  stats.entries = members.size();
  stats.cpio_bytes = sink.in_bytes;
  stats.compressed_bytes = sink.out_bytes;
  return stats;
}

}  // namespace c2w::rootfs
