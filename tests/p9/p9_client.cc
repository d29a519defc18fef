// The test client's encoders and decoders (see p9_client.h).
#include "tests/p9/p9_client.h"

namespace c2w::p9::test {
namespace {

Qid qid(Reply& r) {
  Qid q;
  q.type = r.u8();
  q.version = r.u32();
  q.path = r.u64();
  return q;
}

ProblemHook g_hook = nullptr;

}  // namespace

void set_problem_hook(ProblemHook hook) {
  g_hook = hook;
}

bool Client::check(bool ok, const char* what) {
  if (!ok) {
    ++problems_;
    if (g_hook) g_hook(what);
  }
  return ok;
}

bool parse_dirents(const std::vector<uint8_t>& data, std::vector<Dirent>* out) {
  Reply r;
  r.body = data;
  while (r.pos < r.body.size()) {
    Dirent d;
    d.qid = qid(r);
    d.offset = r.u64();
    d.type = r.u8();
    d.name = r.str();
    if (r.over) return false;
    out->push_back(std::move(d));
  }
  return true;
}

Reply Client::call(uint8_t type, const Msg& body) {
  uint16_t tag = tag_++;
  if (tag_ == kNoTag) tag_ = 1;
  Msg m;
  m.u32(static_cast<uint32_t>(7 + body.b.size())).u8(type).u16(tag);
  m.b.insert(m.b.end(), body.b.begin(), body.b.end());
  std::vector<uint8_t> out(cap_);
  size_t n = s_.handle(m.b.data(), m.b.size(), out.data(), out.size());
  Reply r;
  if (!check(n >= 7, "reply shorter than a header")) return r;
  uint32_t size = out[0] | out[1] << 8 | out[2] << 16 | static_cast<uint32_t>(out[3]) << 24;
  check(size == n, "size field differs from reply length");
  r.type = out[4];
  r.tag = static_cast<uint16_t>(out[5] | out[6] << 8);
  check(r.tag == tag, "tag not echoed");
  check(r.type == type + 1 || r.type == kRlerror, "reply type is neither T+1 nor Rlerror");
  if (r.type == kRlerror) {
    check(n == 11, "Rlerror is not 11 bytes");
  }
  r.body.assign(out.begin() + 7, out.begin() + static_cast<long>(n));
  return r;
}

int Client::error_of(Reply& r) {
  if (r.type != kRlerror) return 0;
  int e = static_cast<int>(r.u32());
  check(e != 0, "Rlerror with errno 0");
  return e;
}

int Client::version(uint32_t msize, const std::string& ver, uint32_t* got_msize,
                    std::string* got_ver) {
  Reply r = call(kTversion, Msg().u32(msize).str(ver));
  if (int e = error_of(r)) return e;
  *got_msize = r.u32();
  *got_ver = r.str();
  return 0;
}

int Client::attach(uint32_t fid, Qid* q) {
  Reply r = call(kTattach, Msg().u32(fid).u32(kNoFid).str("root").str("").u32(0));
  if (int e = error_of(r)) return e;
  Qid got = qid(r);
  if (q) *q = got;
  return 0;
}

int Client::start(uint32_t msize) {
  uint32_t m;
  std::string v;
  if (int e = version(msize, "9P2000.L", &m, &v)) return e;
  if (v != "9P2000.L") return kEPROTO;
  return attach(0);
}

int Client::walk(uint32_t fid, uint32_t newfid, const std::vector<std::string>& names,
                 std::vector<Qid>* qids) {
  Msg m;
  m.u32(fid).u32(newfid).u16(static_cast<uint16_t>(names.size()));
  for (const auto& n : names) m.str(n);
  Reply r = call(kTwalk, m);
  if (int e = error_of(r)) return e;
  uint16_t n = r.u16();
  std::vector<Qid> got;
  for (uint16_t i = 0; i < n; ++i) got.push_back(qid(r));
  check(!r.over && r.pos == r.body.size(), "reply length does not match its fields");
  if (qids) *qids = got;
  // A partial walk is reported as ENOENT by the Linux client; tests see it the same way.
  return n == names.size() ? 0 : kENOENT;
}

int Client::lopen(uint32_t fid, uint32_t flags, Qid* q) {
  Reply r = call(kTlopen, Msg().u32(fid).u32(flags));
  if (int e = error_of(r)) return e;
  Qid got = qid(r);
  r.u32();
  if (q) *q = got;
  return 0;
}

int Client::lcreate(uint32_t fid, const std::string& name, uint32_t flags, uint32_t mode, Qid* q) {
  Reply r = call(kTlcreate, Msg().u32(fid).str(name).u32(flags).u32(mode).u32(0));
  if (int e = error_of(r)) return e;
  Qid got = qid(r);
  if (q) *q = got;
  return 0;
}

int Client::read(uint32_t fid, uint64_t off, uint32_t count, std::string* data) {
  Reply r = call(kTread, Msg().u32(fid).u64(off).u32(count));
  if (int e = error_of(r)) return e;
  uint32_t n = r.u32();
  check(r.body.size() == 4u + n && n <= count, "data count does not match");
  data->assign(r.body.begin() + 4, r.body.end());
  return 0;
}

int Client::write(uint32_t fid, uint64_t off, const std::string& data, uint32_t* written) {
  Msg m;
  m.u32(fid).u64(off).u32(static_cast<uint32_t>(data.size()));
  m.b.insert(m.b.end(), data.begin(), data.end());
  Reply r = call(kTwrite, m);
  if (int e = error_of(r)) return e;
  uint32_t n = r.u32();
  if (written) *written = n;
  return 0;
}

int Client::clunk(uint32_t fid) {
  Reply r = call(kTclunk, Msg().u32(fid));
  return error_of(r);
}

int Client::remove(uint32_t fid) {
  Reply r = call(kTremove, Msg().u32(fid));
  return error_of(r);
}

int Client::getattr(uint32_t fid, Getattr* a) {
  Reply r = call(kTgetattr, Msg().u32(fid).u64(kGetattrBasic));
  if (int e = error_of(r)) return e;
  a->valid = r.u64();
  a->qid = qid(r);
  a->mode = r.u32();
  a->uid = r.u32();
  a->gid = r.u32();
  a->nlink = r.u64();
  a->rdev = r.u64();
  a->size = r.u64();
  a->blksize = r.u64();
  a->blocks = r.u64();
  a->atime = r.u64();
  a->atime_ns = r.u64();
  a->mtime = r.u64();
  a->mtime_ns = r.u64();
  for (int i = 0; i < 6; ++i) r.u64();
  check(!r.over && r.pos == r.body.size(), "reply length does not match its fields");
  return 0;
}

int Client::setattr(uint32_t fid, uint32_t valid, uint32_t mode, uint32_t uid, uint32_t gid,
                    uint64_t size, uint64_t atime, uint64_t mtime) {
  Reply r = call(kTsetattr, Msg()
                                .u32(fid)
                                .u32(valid)
                                .u32(mode)
                                .u32(uid)
                                .u32(gid)
                                .u64(size)
                                .u64(atime)
                                .u64(0)
                                .u64(mtime)
                                .u64(0));
  return error_of(r);
}

int Client::readdir(uint32_t fid, uint64_t off, uint32_t count, std::vector<Dirent>* out) {
  Reply r = call(kTreaddir, Msg().u32(fid).u64(off).u32(count));
  if (int e = error_of(r)) return e;
  uint32_t n = r.u32();
  check(r.body.size() == 4u + n && n <= count, "data count does not match");
  std::vector<uint8_t> data(r.body.begin() + 4, r.body.end());
  check(parse_dirents(data, out), "malformed directory entries");
  return 0;
}

int Client::mkdir(uint32_t dfid, const std::string& name, uint32_t mode, Qid* q) {
  Reply r = call(kTmkdir, Msg().u32(dfid).str(name).u32(mode).u32(0));
  if (int e = error_of(r)) return e;
  Qid got = qid(r);
  if (q) *q = got;
  return 0;
}

int Client::symlink(uint32_t dfid, const std::string& name, const std::string& target) {
  Reply r = call(kTsymlink, Msg().u32(dfid).str(name).str(target).u32(0));
  return error_of(r);
}

int Client::readlink(uint32_t fid, std::string* target) {
  Reply r = call(kTreadlink, Msg().u32(fid));
  if (int e = error_of(r)) return e;
  *target = r.str();
  return 0;
}

int Client::link(uint32_t dfid, uint32_t fid, const std::string& name) {
  Reply r = call(kTlink, Msg().u32(dfid).u32(fid).str(name));
  return error_of(r);
}

int Client::mknod(uint32_t dfid, const std::string& name, uint32_t mode) {
  Reply r = call(kTmknod, Msg().u32(dfid).str(name).u32(mode).u32(0).u32(0).u32(0));
  return error_of(r);
}

int Client::rename(uint32_t fid, uint32_t dfid, const std::string& name) {
  Reply r = call(kTrename, Msg().u32(fid).u32(dfid).str(name));
  return error_of(r);
}

int Client::renameat(uint32_t olddir, const std::string& oldname, uint32_t newdir,
                     const std::string& newname) {
  Reply r = call(kTrenameat, Msg().u32(olddir).str(oldname).u32(newdir).str(newname));
  return error_of(r);
}

int Client::unlinkat(uint32_t dfid, const std::string& name, uint32_t flags) {
  Reply r = call(kTunlinkat, Msg().u32(dfid).str(name).u32(flags));
  return error_of(r);
}

int Client::statfs(uint32_t fid, uint32_t* type, uint32_t* namelen) {
  Reply r = call(kTstatfs, Msg().u32(fid));
  if (int e = error_of(r)) return e;
  *type = r.u32();
  for (int i = 0; i < 7; ++i) i == 0 ? (void)r.u32() : (void)r.u64();
  *namelen = r.u32();
  check(!r.over, "reply shorter than its fields");
  return 0;
}

int Client::fsync(uint32_t fid) {
  Reply r = call(kTfsync, Msg().u32(fid).u32(0));
  return error_of(r);
}

int Client::xattrwalk(uint32_t fid, uint32_t newfid, const std::string& name, uint64_t* size) {
  Reply r = call(kTxattrwalk, Msg().u32(fid).u32(newfid).str(name));
  if (int e = error_of(r)) return e;
  *size = r.u64();
  return 0;
}

}  // namespace c2w::p9::test
