// Server snapshots. Format (little-endian, version kStateVersion = 1):
//   "C2P9" u32 version u32 msize
//   u32 nrecorded { u64 qid_path u8 bits u32 mode u32 uid u32 gid }
//   u32 nfids { u32 fid u8 qtype u8 flags(bit0 xattr, bit1 opened) u32 open_flags
//               u32 pathlen bytes path }
// Readdir positions need no field: each Treaddir carries the position it continues from.
// restore() treats the data as untrusted: every count, length and path is checked, and the
// current session is replaced only when the whole input is valid.
#include <utility>

#include "emulators/p9/linux_abi.h"
#include "emulators/p9/server.h"
#include "emulators/p9/wire.h"

namespace c2w::p9 {
namespace {

void put(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_bytes(std::vector<uint8_t>& out, std::string_view s) {
  for (char c : s) out.push_back(static_cast<uint8_t>(c));
}

// A saved path must look like one the server builds: components that check_name accepts.
bool valid_path(std::string_view p) {
  if (p.empty()) return true;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    if (check_name(p.substr(start, end - start)) != 0) return false;
    start = end + 1;
  }
  return true;
}

constexpr uint32_t kMaxSavedPath = 65535;

}  // namespace

std::vector<uint8_t> Server::save() const {
  std::vector<uint8_t> out;
  put_bytes(out, "C2P9");
  put(out, kStateVersion, 4);
  put(out, msize_, 4);
  put(out, recorded_.size(), 4);
  for (const auto& [key, r] : recorded_) {
    put(out, key, 8);
    put(out, r.has, 1);
    put(out, r.mode, 4);
    put(out, r.uid, 4);
    put(out, r.gid, 4);
  }
  put(out, fids_.size(), 4);
  for (const auto& [id, f] : fids_) {
    put(out, id, 4);
    put(out, f.qtype, 1);
    put(out, (f.xattr ? 1 : 0) | (f.opened ? 2 : 0), 1);
    put(out, f.open_flags, 4);
    put(out, f.path.size(), 4);
    put_bytes(out, f.path);
  }
  return out;
}

int Server::restore(const uint8_t* data, size_t len) {
  Reader r(data, len);
  const uint8_t* magic = r.bytes(4);
  if (!magic || magic[0] != 'C' || magic[1] != '2' || magic[2] != 'P' || magic[3] != '9')
    return kEINVAL;
  if (r.u32() != kStateVersion) return kEINVAL;
  uint32_t msize = r.u32();
  if (!r.ok() || msize < kMinMsize || msize > opts_.max_msize) return kEINVAL;

  std::map<uint64_t, Recorded> recorded;
  uint32_t nrec = r.u32();
  if (!r.ok() || nrec > opts_.max_recorded) return kEINVAL;
  for (uint32_t i = 0; i < nrec && r.ok(); ++i) {
    uint64_t key = r.u64();
    Recorded rec;
    rec.has = r.u8();
    rec.mode = r.u32();
    rec.uid = r.u32();
    rec.gid = r.u32();
    if (rec.has > 7 || rec.mode > 07777) return kEINVAL;
    recorded[key] = rec;
  }
  std::map<uint32_t, Fid> fids;
  uint32_t nfid = r.u32();
  if (!r.ok() || nfid > opts_.max_fids) return kEINVAL;
  for (uint32_t i = 0; i < nfid && r.ok(); ++i) {
    uint32_t id = r.u32();
    Fid f;
    f.qtype = r.u8();
    uint8_t flags = r.u8();
    f.open_flags = r.u32();
    uint32_t plen = r.u32();
    if (!r.ok() || plen > kMaxSavedPath) return kEINVAL;
    const uint8_t* p = r.bytes(plen);
    if (!p) return kEINVAL;
    f.path.assign(reinterpret_cast<const char*>(p), plen);
    f.xattr = flags & 1;
    f.opened = flags & 2;
    if (id == kNoFid || flags > 3 || fids.count(id) || !valid_path(f.path)) return kEINVAL;
    if (f.qtype != kQTDIR && f.qtype != kQTFILE && f.qtype != kQTSYMLINK) return kEINVAL;
    if (f.open_flags & ~(kO_ACCMODE | kO_SYNC) || (f.open_flags & kO_ACCMODE) == kO_ACCMODE)
      return kEINVAL;
    fids.emplace(id, std::move(f));
  }
  if (!r.ok() || r.remaining() != 0) return kEINVAL;

  reset();
  msize_ = msize;
  recorded_ = std::move(recorded);
  fids_ = std::move(fids);
  // Inode numbers decide qids; the root's device is learnt again on this host.
  Attr root;
  root_dev_known_ = fs_->lstat("", &root) == 0;
  root_dev_ = root_dev_known_ ? root.dev : 0;
  return 0;
}

}  // namespace c2w::p9
