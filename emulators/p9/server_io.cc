// Server: attribute, open, read/write, readdir, statfs, fsync, xattr and lock messages.
#include <algorithm>

#include "emulators/p9/linux_abi.h"
#include "emulators/p9/server.h"
#include "emulators/p9/wire.h"

namespace c2w::p9 {

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
  if (opts_.read_only && ((flags & kO_ACCMODE) != kO_RDONLY || (flags & kO_TRUNC))) return kEROFS;
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
  f->qtype = qid_type_of(a.mode);
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
    w.u8(qid_type_of_dtype(ent.type));
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
