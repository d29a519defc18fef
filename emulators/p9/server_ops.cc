// Server: messages that create, rename, remove or change objects in the share. Each checks
// its names with check_name (no '/', ".", "..", NUL; at most kNameMax bytes) before the host
// sees them, and refuses with EROFS on read-only shares.
#include <utility>

#include "emulators/p9/linux_abi.h"
#include "emulators/p9/server.h"
#include "emulators/p9/wire.h"

namespace c2w::p9 {
namespace {

void split(const std::string& path, std::string* dir, std::string* name) {
  size_t slash = path.rfind('/');
  *dir = slash == std::string::npos ? std::string() : path.substr(0, slash);
  *name = path.substr(slash == std::string::npos ? 0 : slash + 1);
}

}  // namespace

void Server::moved(const std::string& from, const std::string& to) {
  // Other fids may name the renamed object or something below it; they follow it, as they
  // would on a local filesystem where they hold the inode.
  for (auto& [id, f] : fids_) {
    if (f.path == from) {
      f.path = to;
    } else if (f.path.size() > from.size() && f.path.compare(0, from.size(), from) == 0 &&
               f.path[from.size()] == '/') {
      f.path = to + f.path.substr(from.size());
    }
  }
}

void Server::apply_recorded(Attr* a) const {
  auto it = recorded_.find(qid_path(a->ino, a->dev));
  if (it == recorded_.end()) return;
  const Recorded& r = it->second;
  if (r.has & 1) a->mode = (a->mode & kS_IFMT) | (r.mode & 07777);
  if (r.has & 2) a->uid = r.uid;
  if (r.has & 4) a->gid = r.gid;
}

int Server::record(const Attr& a, uint8_t bits, uint32_t mode, uint32_t uid, uint32_t gid) {
  uint64_t key = qid_path(a.ino, a.dev);
  auto it = recorded_.find(key);
  if (it == recorded_.end()) {
    if (recorded_.size() >= opts_.max_recorded) return kENOSPC;
    it = recorded_.emplace(key, Recorded{}).first;
  }
  Recorded& r = it->second;
  r.has |= bits;
  if (bits & 1) r.mode = mode & 07777;
  if (bits & 2) r.uid = uid;
  if (bits & 4) r.gid = gid;
  return 0;
}

int Server::op_setattr(Reader& r) {
  Fid* f = find(r.u32());
  uint32_t valid = r.u32();
  uint32_t mode = r.u32();
  uint32_t uid = r.u32();
  uint32_t gid = r.u32();
  uint64_t size = r.u64();
  Timespec at{static_cast<int64_t>(r.u64()), 0};
  at.nsec = static_cast<uint32_t>(r.u64());
  Timespec mt{static_cast<int64_t>(r.u64()), 0};
  mt.nsec = static_cast<uint32_t>(r.u64());
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  if (f->xattr) return kEINVAL;
  valid &= 0x1ff;
  if (opts_.read_only && (valid & ~kSetCtime)) return kEROFS;
  if ((at.nsec >= 1000000000u && (valid & kSetAtimeSet)) ||
      (mt.nsec >= 1000000000u && (valid & kSetMtimeSet)))
    return kEINVAL;
  Attr cur;
  int e = f->handle >= 0 ? fs_->fstat(f->handle, &cur) : fs_->lstat(f->path, &cur);
  if (e) return e;
  // Ownership and modes the host cannot apply (WASI has no chmod/chown; an unprivileged host
  // user cannot chown) are recorded instead, so the guest sees what it set, e.g. for files a
  // package manager hands to a service user.
  auto forget = [&](uint8_t bits) {
    // The host applied it: an older record must not hide the real value any more.
    auto it = recorded_.find(qid_path(cur.ino, cur.dev));
    if (it != recorded_.end()) it->second.has &= static_cast<uint8_t>(~bits);
  };
  if (valid & kSetMode) {
    e = fs_->chmod(f->path, mode & 07777);
    if (e == 0) forget(1);
    if (e == kEOPNOTSUPP) e = record(cur, 1, mode, 0, 0);
    if (e) return e;
  }
  if (valid & (kSetUid | kSetGid)) {
    uint32_t u = (valid & kSetUid) ? uid : 0xffffffffu;
    uint32_t g = (valid & kSetGid) ? gid : 0xffffffffu;
    uint8_t bits = static_cast<uint8_t>(((valid & kSetUid) ? 2 : 0) | ((valid & kSetGid) ? 4 : 0));
    e = fs_->chown(f->path, u, g);
    if (e == 0) forget(bits);
    if (e == kEOPNOTSUPP || e == kEPERM) e = record(cur, bits, 0, uid, gid);
    if (e) return e;
  }
  if (valid & kSetSize) {
    if (f->qtype == kQTDIR) return kEISDIR;
    bool writable = f->handle >= 0 && (f->open_flags & kO_ACCMODE) != kO_RDONLY;
    e = writable ? fs_->ftruncate(f->handle, size) : fs_->truncate(f->path, size);
    if (e) return e;
  }
  if (valid & (kSetAtime | kSetMtime)) {
    TimeSet a, m;
    if (valid & kSetAtime) {
      a.kind = (valid & kSetAtimeSet) ? TimeSet::kValue : TimeSet::kNow;
      a.value = at;
    }
    if (valid & kSetMtime) {
      m.kind = (valid & kSetMtimeSet) ? TimeSet::kValue : TimeSet::kNow;
      m.value = mt;
    }
    if ((e = fs_->utimes(f->path, a, m))) return e;
  }
  return 0;
}

int Server::op_lcreate(Reader& r, Writer& w) {
  Fid* f = find(r.u32());
  std::string_view name = r.str();
  uint32_t flags = r.u32();
  uint32_t mode = r.u32();
  r.u32();  // gid: new files belong to the host process
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (f->opened || f->xattr) return kEINVAL;
  if (f->qtype != kQTDIR) return kENOTDIR;
  std::string path;
  if (int e = check_name(name)) return e;
  if (int e = join_path(f->path, name, &path)) return e;
  flags &= kO_ACCMODE | kO_TRUNC | kO_SYNC | kO_EXCL;
  if ((flags & kO_ACCMODE) == kO_ACCMODE) return kEINVAL;
  Handle h;
  if (int e = fs_->create(f->path, std::string(name), flags, mode, &h)) return e;
  Attr a;
  if (int e = fs_->fstat(h, &a)) {
    fs_->close(h);
    return e;
  }
  apply_recorded(&a);
  f->path = std::move(path);
  f->qtype = kQTFILE;
  f->opened = true;
  f->open_flags = flags & ~(kO_TRUNC | kO_EXCL);
  f->handle = h;
  write_qid(w, a);
  w.u32(0);
  return 0;
}

int Server::op_mkdir(Reader& r, Writer& w) {
  Fid* d = find(r.u32());
  std::string_view name = r.str();
  uint32_t mode = r.u32();
  r.u32();  // gid
  if (!r.ok()) return kEINVAL;
  if (!d) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (d->qtype != kQTDIR) return kENOTDIR;
  std::string path;
  if (int e = check_name(name)) return e;
  if (int e = join_path(d->path, name, &path)) return e;
  if (int e = fs_->mkdir(d->path, std::string(name), mode)) return e;
  return qid_of(path, w);
}

int Server::op_symlink(Reader& r, Writer& w) {
  Fid* d = find(r.u32());
  std::string_view name = r.str();
  std::string_view target = r.str();
  r.u32();  // gid
  if (!r.ok()) return kEINVAL;
  if (!d) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (d->qtype != kQTDIR) return kENOTDIR;
  std::string path;
  if (int e = check_name(name)) return e;
  if (int e = join_path(d->path, name, &path)) return e;
  // The target is stored, not resolved: it may point anywhere, the guest follows it itself.
  if (target.empty()) return kENOENT;
  if (target.size() > kPathMax) return kENAMETOOLONG;
  if (target.find('\0') != std::string_view::npos) return kEINVAL;
  if (int e = fs_->symlink(d->path, std::string(name), std::string(target))) return e;
  return qid_of(path, w);
}

int Server::op_mknod(Reader& r, Writer& w) {
  Fid* d = find(r.u32());
  std::string_view name = r.str();
  uint32_t mode = r.u32();
  r.u32();  // major
  r.u32();  // minor
  r.u32();  // gid
  if (!r.ok()) return kEINVAL;
  if (!d) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (d->qtype != kQTDIR) return kENOTDIR;
  std::string path;
  if (int e = check_name(name)) return e;
  if (int e = join_path(d->path, name, &path)) return e;
  if (int e = fs_->mknod(d->path, std::string(name), mode)) return e;
  return qid_of(path, w);
}

int Server::op_link(Reader& r) {
  Fid* d = find(r.u32());
  Fid* f = find(r.u32());
  std::string_view name = r.str();
  if (!r.ok()) return kEINVAL;
  if (!d || !f) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (d->qtype != kQTDIR) return kENOTDIR;
  if (f->qtype == kQTDIR || f->path.empty()) return kEPERM;
  std::string path;
  if (int e = check_name(name)) return e;
  if (int e = join_path(d->path, name, &path)) return e;
  return fs_->link(f->path, d->path, std::string(name));
}

int Server::op_readlink(Reader& r, Writer& w) {
  Fid* f = find(r.u32());
  if (!r.ok()) return kEINVAL;
  if (!f) return kEBADF;
  if (f->qtype != kQTSYMLINK) return kEINVAL;
  std::string target;
  if (int e = fs_->readlink(f->path, &target)) return e;
  w.str(target);
  return 0;
}

int Server::op_rename(Reader& r) {
  Fid* f = find(r.u32());
  Fid* d = find(r.u32());
  std::string_view name = r.str();
  if (!r.ok()) return kEINVAL;
  if (!f || !d) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (f->path.empty()) return kEBUSY;
  if (d->qtype != kQTDIR) return kENOTDIR;
  std::string to;
  if (int e = check_name(name)) return e;
  if (int e = join_path(d->path, name, &to)) return e;
  std::string from = f->path, olddir, oldname;
  split(from, &olddir, &oldname);
  if (int e = fs_->rename(olddir, oldname, d->path, std::string(name))) return e;
  moved(from, to);
  return 0;
}

int Server::op_renameat(Reader& r) {
  Fid* od = find(r.u32());
  std::string_view oldname = r.str();
  Fid* nd = find(r.u32());
  std::string_view newname = r.str();
  if (!r.ok()) return kEINVAL;
  if (!od || !nd) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (od->qtype != kQTDIR || nd->qtype != kQTDIR) return kENOTDIR;
  std::string from, to;
  if (int e = check_name(oldname)) return e;
  if (int e = check_name(newname)) return e;
  if (int e = join_path(od->path, oldname, &from)) return e;
  if (int e = join_path(nd->path, newname, &to)) return e;
  if (int e = fs_->rename(od->path, std::string(oldname), nd->path, std::string(newname))) return e;
  moved(from, to);
  return 0;
}

int Server::op_unlinkat(Reader& r) {
  Fid* d = find(r.u32());
  std::string_view name = r.str();
  uint32_t flags = r.u32();
  if (!r.ok()) return kEINVAL;
  if (!d) return kEBADF;
  if (opts_.read_only) return kEROFS;
  if (d->qtype != kQTDIR) return kENOTDIR;
  if (int e = check_name(name)) return e;
  return fs_->unlink(d->path, std::string(name), (flags & kAtRemoveDir) != 0);
}

}  // namespace c2w::p9
