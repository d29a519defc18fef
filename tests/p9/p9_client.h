// A 9P2000.L client for tests, written from the message layouts: it encodes requests, runs
// them through a Server and decodes replies, checking that every reply is well-formed (size
// field equals length, tag echoed, type is T+1 or Rlerror, fields fill the reply exactly).
// Helpers return 0 or the Linux errno of the Rlerror. It does not depend on GoogleTest so the
// wasm32-wasi session check uses it too; malformed replies are counted (problems()) and
// reported to the hook set with set_problem_hook().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "emulators/p9/linux_abi.h"
#include "emulators/p9/server.h"

namespace c2w::p9::test {

struct Msg {
  std::vector<uint8_t> b;
  Msg& u8(uint8_t v) { return put(v, 1); }
  Msg& u16(uint16_t v) { return put(v, 2); }
  Msg& u32(uint32_t v) { return put(v, 4); }
  Msg& u64(uint64_t v) { return put(v, 8); }
  Msg& str(const std::string& s) {
    u16(static_cast<uint16_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Msg& put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
};

struct Reply {
  uint8_t type = 0;
  uint16_t tag = 0;
  std::vector<uint8_t> body;
  size_t pos = 0;
  bool over = false;
  uint64_t get(int n) {
    if (pos + n > body.size()) {
      over = true;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{body[pos + i]} << (8 * i);
    pos += n;
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint16_t u16() { return static_cast<uint16_t>(get(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  std::string str() {
    size_t n = u16();
    if (pos + n > body.size()) {
      over = true;
      return {};
    }
    std::string s(body.begin() + pos, body.begin() + pos + n);
    pos += n;
    return s;
  }
};

struct Qid {
  uint8_t type = 0;
  uint32_t version = 0;
  uint64_t path = 0;
};

struct Getattr {
  uint64_t valid = 0;
  Qid qid;
  uint32_t mode = 0, uid = 0, gid = 0;
  uint64_t nlink = 0, rdev = 0, size = 0, blksize = 0, blocks = 0;
  uint64_t atime = 0, atime_ns = 0, mtime = 0, mtime_ns = 0;
};

struct Dirent {
  Qid qid;
  uint64_t offset = 0;
  uint8_t type = 0;
  std::string name;
};

using ProblemHook = void (*)(const char* what);
void set_problem_hook(ProblemHook hook);

// Splits a readdir payload into entries; false if it is malformed.
bool parse_dirents(const std::vector<uint8_t>& data, std::vector<Dirent>* out);

class Client {
 public:
  explicit Client(Server& s, size_t cap = 65536) : s_(s), cap_(cap) {}

  // Sends one request; returns the decoded reply (checked for well-formedness).
  Reply call(uint8_t type, const Msg& body);

  int version(uint32_t msize, const std::string& ver, uint32_t* got_msize, std::string* got_ver);
  int attach(uint32_t fid, Qid* qid = nullptr);
  int walk(uint32_t fid, uint32_t newfid, const std::vector<std::string>& names,
           std::vector<Qid>* qids = nullptr);
  int lopen(uint32_t fid, uint32_t flags, Qid* qid = nullptr);
  int lcreate(uint32_t fid, const std::string& name, uint32_t flags, uint32_t mode,
              Qid* qid = nullptr);
  int read(uint32_t fid, uint64_t off, uint32_t count, std::string* data);
  int write(uint32_t fid, uint64_t off, const std::string& data, uint32_t* written = nullptr);
  int clunk(uint32_t fid);
  int remove(uint32_t fid);
  int getattr(uint32_t fid, Getattr* a);
  int setattr(uint32_t fid, uint32_t valid, uint32_t mode, uint32_t uid, uint32_t gid,
              uint64_t size, uint64_t atime = 0, uint64_t mtime = 0);
  int readdir(uint32_t fid, uint64_t off, uint32_t count, std::vector<Dirent>* out);
  int mkdir(uint32_t dfid, const std::string& name, uint32_t mode, Qid* qid = nullptr);
  int symlink(uint32_t dfid, const std::string& name, const std::string& target);
  int readlink(uint32_t fid, std::string* target);
  int link(uint32_t dfid, uint32_t fid, const std::string& name);
  int mknod(uint32_t dfid, const std::string& name, uint32_t mode);
  int rename(uint32_t fid, uint32_t dfid, const std::string& name);
  int renameat(uint32_t olddir, const std::string& oldname, uint32_t newdir,
               const std::string& newname);
  int unlinkat(uint32_t dfid, const std::string& name, uint32_t flags);
  int statfs(uint32_t fid, uint32_t* type, uint32_t* namelen);
  int fsync(uint32_t fid);
  int xattrwalk(uint32_t fid, uint32_t newfid, const std::string& name, uint64_t* size);

  // version + attach of fid 0 at the root.
  int start(uint32_t msize = 65536);
  int problems() const { return problems_; }

 private:
  bool check(bool ok, const char* what);
  int error_of(Reply& r);

  Server& s_;
  size_t cap_;
  uint16_t tag_ = 1;
  int problems_ = 0;
};

}  // namespace c2w::p9::test
