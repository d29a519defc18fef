// Server core: message framing, dispatch, fids, and the session, walk and I/O messages.
// Namespace-changing messages live in server_ops.cc, snapshots in server_state.cc.
#include "emulators/p9/server.h"

#include <algorithm>

#include "emulators/p9/linux_abi.h"
#include "emulators/p9/wire.h"

namespace c2w::p9 {
namespace {

constexpr size_t kHeader = 7;  // size[4] type[1] tag[2]
constexpr size_t kRlerrorSize = kHeader + 4;

uint8_t qtype_of(uint32_t mode) {
  switch (mode & kS_IFMT) {
    case kS_IFDIR:
      return kQTDIR;
    case kS_IFLNK:
      return kQTSYMLINK;
    default:
      return kQTFILE;
  }
}

uint8_t qtype_of_dtype(uint8_t t) {
  if (t == kDT_DIR) return kQTDIR;
  if (t == kDT_LNK) return kQTSYMLINK;
  return kQTFILE;
}

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

Server::~Server() { reset(); }

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
  w.u8(qtype_of(a.mode));
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
    qtype = qtype_of(a.mode);
    ++walked;
  }
  w.patch_u16(count_at, walked);
  if (walked < n) return 0;  // partial walk: newfid is not created
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

// ---- attributes and I/O ----

int Server::op_getattr(Reader& r, Writer& w) {
  Fid* f = find(r.u32());
  r.u64();  // request_mask: everything basic is cheap, so always answer all of it
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  Attr a;
  if (int e = stat_of(*f, &a)) return e;
  w.u64(kGetattrBasic);
  write_qid(w, a);
  w.u32(a.mode);
  w.u32(a.uid);
  w.u32(a.gid);
  w.u64(a.nlink);
  w.u64(a.rdev);
  w.u64(a.size);
  w.u64(a.blksize);
  w.u64(a.blocks);
  for (const Timespec* t : {&a.atime, &a.mtime, &a.ctime}) {
    w.u64(static_cast<uint64_t>(t->sec));
    w.u64(t->nsec);
  }
  for (int i = 0; i < 4; ++i) w.u64(0);  // btime sec/nsec, gen, data_version: not kept
  return 0;
}

int Server::op_lopen(Reader& r, Writer& w) {
  Fid* f = find(r.u32());
  uint32_t flags = r.u32();
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  if (f->opened || f->xattr) return kEINVAL;
  flags &= kO_ACCMODE | kO_TRUNC | kO_SYNC;
  if ((flags & kO_ACCMODE) == kO_ACCMODE) return kEINVAL;
  if (opts_.read_only && ((flags & kO_ACCMODE) != kO_RDONLY || (flags & kO_TRUNC)))
    return kEROFS;
  if (f->qtype == kQTSYMLINK) return kELOOP;
  Handle h;
  if (int e = fs_->open(f->path, flags, &h)) return e;
  Attr a;
  if (int e = fs_->fstat(h, &a)) {
    fs_->close(h);
    return e;
  }
  apply_recorded(&a);
  f->handle = h;
  f->opened = true;
  f->open_flags = flags & ~kO_TRUNC;
  f->qtype = qtype_of(a.mode);
  write_qid(w, a);
  w.u32(0);  // iounit 0: the client uses msize
  return 0;
}

int Server::op_read(Reader& r, Writer& w) {
  Fid* f = find(r.u32());
  uint64_t off = r.u64();
  uint32_t count = r.u32();
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  if (int e = ensure_open(*f)) return e;
  size_t at = w.size();
  w.u32(0);
  if (f->xattr) return 0;  // the only xattr fids we make are empty lists
  if (f->qtype == kQTDIR) return kEISDIR;
  size_t n = std::min<size_t>(count, w.room());
  size_t got = 0;
  if (int e = fs_->pread(f->handle, w.cursor(), n, off, &got)) return e;
  w.advance(got);
  w.patch_u32(at, static_cast<uint32_t>(got));
  return 0;
}

int Server::op_write(Reader& r, Writer& w) {
  Fid* f = find(r.u32());
  uint64_t off = r.u64();
  uint32_t count = r.u32();
  const uint8_t* data = r.bytes(count);
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (int e = ensure_open(*f)) return e;
  if (f->xattr || (f->open_flags & kO_ACCMODE) == kO_RDONLY) return kEBADF;
  size_t put = 0;
  if (int e = fs_->pwrite(f->handle, data, count, off, &put)) return e;
  w.u32(static_cast<uint32_t>(put));
  return 0;
}

int Server::op_readdir(Reader& r, Writer& w) {
  Fid* f = find(r.u32());
  uint64_t pos = r.u64();
  uint32_t count = r.u32();
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  if (int e = ensure_open(*f)) return e;
  if (f->qtype != kQTDIR) return kENOTDIR;
  size_t at = w.size();
  w.u32(0);
  size_t limit = std::min<size_t>(count, w.room());
  size_t used = 0;
  // Each entry's offset is the position of the entry after it, so a client that resumes from
  // the last offset it saw continues exactly there, in this process or after a restore.
  for (;;) {
    DirEntry ent;
    bool end = false;
    int e = fs_->readdir(f->handle, pos, &ent, &end);
    if (e != 0 && used == 0) return e;
    if (e != 0 || end) break;
    size_t need = 13 + 8 + 1 + 2 + ent.name.size();
    if (used + need > limit) break;
    w.u8(qtype_of_dtype(ent.type));
    w.u32(0);
    w.u64(qid_path(ent.ino, root_dev_));
    w.u64(pos + 1);
    w.u8(ent.type);
    w.str(ent.name);
    used += need;
    ++pos;
  }
  w.patch_u32(at, static_cast<uint32_t>(used));
  return 0;
}

int Server::op_statfs(Reader& r, Writer& w) {
  Fid* f = find(r.u32());
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  FsStat s;
  if (int e = fs_->statfs(&s)) return e;
  w.u32(kV9fsMagic);
  w.u32(s.bsize);
  w.u64(s.blocks);
  w.u64(s.bfree);
  w.u64(s.bavail);
  w.u64(s.files);
  w.u64(s.ffree);
  w.u64(s.fsid);
  w.u32(s.namelen);
  return 0;
}

int Server::op_fsync(Reader& r) {
  Fid* f = find(r.u32());
  uint32_t datasync = r.u32();
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  if (int e = ensure_open(*f)) return e;
  if (f->xattr) return 0;
  return fs_->fsync(f->handle, datasync != 0);
}

int Server::op_xattrwalk(Reader& r, Writer& w) {
  uint32_t fid = r.u32();
  uint32_t newfid = r.u32();
  std::string_view name = r.str();
  if (!r.ok()) return kEINVAL;
  Fid* f = find(fid);
  if (!f) return kEBADF;
  // The share keeps no extended attributes: any named one is absent, the list is empty.
  if (!name.empty()) return kENODATA;
  std::string path = f->path;
  uint8_t qtype = f->qtype;
  Fid* x;
  if (newfid == fid) {
    drop(fid);
  }
  if (int e = new_fid(newfid, &x)) return e;
  x->path = std::move(path);
  x->qtype = qtype;
  x->xattr = true;
  x->opened = true;
  w.u64(0);
  return 0;
}

int Server::op_lock(Reader& r, Writer& w, bool get) {
  Fid* f = find(r.u32());
  uint8_t type = r.u8();
  if (!get) r.u32();  // flags
  uint64_t start = r.u64();
  uint64_t length = r.u64();
  uint32_t proc_id = r.u32();
  std::string_view client = r.str();
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  (void)type;
  // One client per share, and its kernel already arbitrates between its own processes: every
  // lock is granted and no conflicting lock ever exists.
  if (!get) {
    w.u8(kLockSuccess);
    return 0;
  }
  w.u8(kLockUnlocked);
  w.u64(start);
  w.u64(length);
  w.u32(proc_id);
  w.str(client);
  return 0;
}

}  // namespace c2w::p9
