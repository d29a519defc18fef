// Server core: message framing, dispatch, fids, and the session and walk messages.
// I/O messages live in server_io.cc, namespace-changing ones in server_ops.cc, snapshots in
// server_state.cc.
#include "emulators/p9/server.h"

#include <algorithm>

#include "emulators/p9/linux_abi.h"
#include "emulators/p9/wire.h"

namespace c2w::p9 {
namespace {

constexpr size_t kHeader = 7;  // size[4] type[1] tag[2]
constexpr size_t kRlerrorSize = kHeader + 4;

}  // namespace

int check_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return kEINVAL;
  if (name.size() > kNameMax) return kENAMETOOLONG;
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos)
    return kEINVAL;
  return 0;
}

int join_path(const std::string& parent, std::string_view name, std::string* out) {
  size_t total = parent.size() + (parent.empty() ? 0 : 1) + name.size();
  if (total > kPathMax) return kENAMETOOLONG;
  out->assign(parent);
  if (!parent.empty()) out->push_back('/');
  out->append(name);
  return 0;
}

Server::Server(HostFs* fs, const ServerOptions& opts)
    : fs_(fs), opts_(opts), msize_(std::max(opts.max_msize, kMinMsize)) {
  opts_.max_msize = msize_;
}

Server::~Server() {
  reset();
}

void Server::reset() {
  for (auto& [id, f] : fids_)
    if (f.handle >= 0) fs_->close(f.handle);
  fids_.clear();
}

size_t Server::handle(const uint8_t* req, size_t len, uint8_t* resp, size_t cap) {
  cap = std::min<size_t>(cap, msize_);
  if (cap < kRlerrorSize) return 0;
  Reader head(req, std::min(len, kHeader));
  uint32_t size = head.u32();
  uint8_t type = head.u8();
  uint16_t tag = head.u16();
  int err;
  Writer w(resp, cap);
  if (!head.ok()) {
    err = kEINVAL;
    tag = kNoTag;
  } else if (size < kHeader || size > len) {
    err = kEINVAL;
  } else {
    Reader r(req + kHeader, size - kHeader);
    w.advance(kHeader);
    err = dispatch(type, r, w);
    if (err == 0 && !w.ok()) err = kEMSGSIZE;  // the reply did not fit the client's buffer
  }
  if (err == 0) {
    resp[4] = static_cast<uint8_t>(type + 1);
  } else {
    w = Writer(resp, cap);
    w.advance(kHeader);
    w.u32(static_cast<uint32_t>(err));
    resp[4] = kRlerror;
  }
  w.patch_u32(0, static_cast<uint32_t>(w.size()));
  resp[5] = static_cast<uint8_t>(tag);
  resp[6] = static_cast<uint8_t>(tag >> 8);
  return w.size();
}

int Server::dispatch(uint8_t type, Reader& r, Writer& w) {
  switch (type) {
    case kTversion:
      return op_version(r, w);
    case kTattach:
      return op_attach(r, w);
    case kTwalk:
      return op_walk(r, w);
    case kTclunk:
      return op_clunk(r, false);
    case kTremove:
      return op_clunk(r, true);
    case kTgetattr:
      return op_getattr(r, w);
    case kTsetattr:
      return op_setattr(r);
    case kTlopen:
      return op_lopen(r, w);
    case kTlcreate:
      return op_lcreate(r, w);
    case kTread:
      return op_read(r, w);
    case kTwrite:
      return op_write(r, w);
    case kTreaddir:
      return op_readdir(r, w);
    case kTmkdir:
      return op_mkdir(r, w);
    case kTsymlink:
      return op_symlink(r, w);
    case kTmknod:
      return op_mknod(r, w);
    case kTlink:
      return op_link(r);
    case kTreadlink:
      return op_readlink(r, w);
    case kTrename:
      return op_rename(r);
    case kTrenameat:
      return op_renameat(r);
    case kTunlinkat:
      return op_unlinkat(r);
    case kTstatfs:
      return op_statfs(r, w);
    case kTfsync:
      return op_fsync(r);
    case kTxattrwalk:
      return op_xattrwalk(r, w);
    case kTxattrcreate: {
      Fid* f = find(r.u32());
      r.str();
      r.u64();
      r.u32();
      if (!r.ok()) return kEINVAL;
      if (!f) return kEBADF;
      return opts_.read_only ? kEROFS : kEOPNOTSUPP;
    }
    case kTlock:
      return op_lock(r, w, false);
    case kTgetlock:
      return op_lock(r, w, true);
    case kTflush:
      // Requests complete before handle() returns, so there is never anything to cancel.
      r.u16();
      return r.ok() ? 0 : kEINVAL;
    default:
      return kEOPNOTSUPP;  // Tauth, legacy 9P2000/.u messages, R-messages, garbage
  }
}

// ---- fids ----

Server::Fid* Server::find(uint32_t fid) {
  auto it = fids_.find(fid);
  return it == fids_.end() ? nullptr : &it->second;
}

int Server::new_fid(uint32_t fid, Fid** out) {
  if (fid == kNoFid) return kEINVAL;
  if (fids_.count(fid)) return kEEXIST;
  if (fids_.size() >= opts_.max_fids) return kEMFILE;
  *out = &fids_[fid];
  return 0;
}

void Server::drop(uint32_t fid) {
  auto it = fids_.find(fid);
  if (it == fids_.end()) return;
  if (it->second.handle >= 0) fs_->close(it->second.handle);
  fids_.erase(it);
}

int Server::ensure_open(Fid& f) {
  if (!f.opened) return kEBADF;
  if (f.handle >= 0 || f.xattr) return 0;
  // After a restore: reopen the file the fid had open, without re-truncating it.
  return fs_->open(f.path, f.open_flags, &f.handle);
}

int Server::stat_of(const Fid& f, Attr* a) {
  int e = f.handle >= 0 ? fs_->fstat(f.handle, a) : fs_->lstat(f.path, a);
  if (e == 0) apply_recorded(a);
  return e;
}

uint64_t Server::qid_path(uint64_t ino, uint64_t dev) const {
  if (!root_dev_known_ || dev == root_dev_) return ino;
  // A mount point inside the share: fold the device into the high bits so inode numbers of
  // different filesystems rarely collide.
  uint64_t z = dev + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return ino ^ ((z ^ (z >> 31)) & 0xffff000000000000ull);
}

void Server::write_qid(Writer& w, const Attr& a) const {
  w.u8(qid_type_of(a.mode));
  w.u32(0);  // version: the client does not need it for correctness
  w.u64(qid_path(a.ino, a.dev));
}

int Server::qid_of(const std::string& path, Writer& w) {
  Attr a;
  if (int e = fs_->lstat(path, &a)) return e;
  write_qid(w, a);
  return 0;
}

// ---- session ----

int Server::op_version(Reader& r, Writer& w) {
  uint32_t want = r.u32();
  std::string_view version = r.str();
  if (!r.ok()) return kEINVAL;
  if (want < kMinMsize) return kEINVAL;
  reset();  // a new session begins: every old fid is gone
  msize_ = std::min(want, opts_.max_msize);
  w.u32(msize_);
  w.str(version.substr(0, 8) == "9P2000.L" ? "9P2000.L" : "unknown");
  return 0;
}

int Server::op_attach(Reader& r, Writer& w) {
  uint32_t fid = r.u32();
  r.u32();  // afid: there is no authentication
  r.str();  // uname and aname: one share per server, access is the host process's
  r.str();
  r.u32();  // n_uname
  if (!r.ok()) return kEINVAL;
  Attr a;
  if (int e = fs_->lstat("", &a)) return e;
  root_dev_ = a.dev;
  root_dev_known_ = true;
  apply_recorded(&a);
  Fid* f;
  if (int e = new_fid(fid, &f)) return e;
  f->qtype = kQTDIR;
  write_qid(w, a);
  return 0;
}

int Server::op_walk(Reader& r, Writer& w) {
  uint32_t fid = r.u32();
  uint32_t newfid = r.u32();
  uint16_t n = r.u16();
  if (!r.ok() || n > kMaxWalkNames) return kEINVAL;
  std::string_view names[kMaxWalkNames];
  for (uint16_t i = 0; i < n; ++i) names[i] = r.str();
  if (!r.ok()) return kEINVAL;
  Fid* from = find(fid);
  if (!from) return kEBADF;
  if (newfid != fid && find(newfid)) return kEEXIST;
  if (newfid != fid && fids_.size() >= opts_.max_fids) return kEMFILE;
  if (newfid == kNoFid) return kEINVAL;

  std::string path = from->path;
  uint8_t qtype = from->qtype;
  size_t count_at = w.size();
  w.u16(0);
  uint16_t walked = 0;
  for (uint16_t i = 0; i < n; ++i) {
    std::string next;
    int e = 0;
    if (qtype != kQTDIR) {
      e = kENOTDIR;  // includes symlinks: the guest resolves those, we never walk through
    } else if (names[i] == "..") {
      size_t slash = path.rfind('/');
      next = slash == std::string::npos ? std::string() : path.substr(0, slash);
    } else if (names[i] == ".") {
      next = path;
    } else if ((e = check_name(names[i])) == 0) {
      e = join_path(path, names[i], &next);
    }
    Attr a;
    if (e == 0) e = fs_->lstat(next, &a);
    if (e != 0) {
      if (i == 0) return e;
      break;
    }
    apply_recorded(&a);
    write_qid(w, a);
    path = std::move(next);
    qtype = qid_type_of(a.mode);
    ++walked;
  }
  w.patch_u16(count_at, walked);
  if (walked < n) return 0;               // partial walk: newfid is not created
  if (n == 0 && newfid == fid) return 0;  // nothing to walk: the fid stays as it is
  Fid* to;
  if (newfid == fid) {
    to = from;
    if (to->handle >= 0) fs_->close(to->handle);
    *to = Fid{};
  } else {
    to = &fids_[newfid];
  }
  to->path = std::move(path);
  to->qtype = qtype;
  return 0;
}

int Server::op_clunk(Reader& r, bool remove) {
  uint32_t fid = r.u32();
  if (!r.ok()) return kEINVAL;
  Fid* f = find(fid);
  if (!f) return kEBADF;
  int e = 0;
  if (remove) {
    // Tremove clunks the fid whatever happens to the file.
    if (opts_.read_only) {
      e = kEROFS;
    } else if (f->path.empty()) {
      e = kEBUSY;
    } else {
      size_t slash = f->path.rfind('/');
      std::string dir = slash == std::string::npos ? std::string() : f->path.substr(0, slash);
      std::string name = f->path.substr(slash == std::string::npos ? 0 : slash + 1);
      e = fs_->unlink(dir, name, f->qtype == kQTDIR);
    }
  }
  drop(fid);
  return e;
}

}  // namespace c2w::p9
