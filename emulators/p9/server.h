// A 9P2000.L file server for one share, as a pure library: a request's bytes in, the reply's
// bytes out, over a HostFs. It has no transport, no threads and no exceptions; a virtio-9p
// device calls handle() once per request chain and copies the reply into the guest's buffers.
//
// Promises:
// - handle() never crashes or allocates without bound on hostile input: sizes, counts, string
//   lengths, names and fids are all checked; anything malformed or unknown gets an Rlerror
//   (EINVAL, EOPNOTSUPP, ...) carrying Linux errno numbers whatever the host is.
// - Paths are kept per fid, relative to the share; walks treat ".." lexically and never go
//   above the root; symlinks are reported, never followed (the guest resolves them); together
//   with HostFs's no-follow rule nothing outside the share is reachable.
// - read_only shares answer EROFS to every request that would change the share.
// - save()/restore() carry the session (msize, fids with their share-relative paths and open
//   modes, recorded ownership/modes) in an explicit little-endian format without pointers or
//   host descriptors; restored fids reopen their files on first use.
//
// How a transport uses it (virtio-9p): create one Server per share tag; for each request chain,
// gather the driver-readable descriptors into a buffer, call handle() with a reply buffer as
// large as the device-writable descriptors (at most msize() bytes are ever used), scatter the
// reply back and report its length as the used length. On device reset call reset(); in the
// machine snapshot store save() and feed it to restore() after the Server is rebuilt over the
// same share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "emulators/p9/hostfs.h"

namespace c2w::p9 {

class Reader;
class Writer;

struct ServerOptions {
  bool read_only = false;
  uint32_t max_msize = 512 * 1024;  // Tversion asking for more gets this
  uint32_t max_fids = 8192;         // more live fids than this: EMFILE
  uint32_t max_recorded = 65536;    // ownership/mode records kept when the host cannot apply them
};

class Server {
 public:
  // Linux refuses msize below 4096 too. At 4096 the longest symlink targets do not fit an
  // Rreadlink: those get EMSGSIZE.
  static constexpr uint32_t kMinMsize = 4096;
  static constexpr uint32_t kStateVersion = 1;

  Server(HostFs* fs, const ServerOptions& opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Handles one request message (req points at its size[4] field; len is how many bytes the
  // transport has). Writes the reply into resp and returns its length. Replies never exceed
  // min(cap, msize). Returns 0 only when cap cannot hold even an Rlerror (11 bytes).
  size_t handle(const uint8_t* req, size_t len, uint8_t* resp, size_t cap);

  uint32_t msize() const { return msize_; }
  size_t fid_count() const { return fids_.size(); }
  // Drops every fid and closes their files, as a transport reset does.
  void reset();

  // Serializes the session. Host handles are not part of it.
  std::vector<uint8_t> save() const;
  // Replaces the session with a saved one. Returns 0, or kEINVAL (state unchanged) if the
  // data is malformed or from an unknown version.
  int restore(const uint8_t* data, size_t len);

 private:
  struct Fid {
    std::string path;  // "" is the root
    uint8_t qtype = 0;
    bool xattr = false;       // a Txattrwalk result: reads as empty
    bool opened = false;      // Tlopen/Tlcreate succeeded
    uint32_t open_flags = 0;  // Linux flags it was opened with (create/trunc bits removed)
    Handle handle = -1;       // host handle; -1 until (re)opened
  };
  struct Recorded {
    uint8_t has = 0;  // bit 0 mode, bit 1 uid, bit 2 gid
    uint32_t mode = 0, uid = 0, gid = 0;
  };

  int dispatch(uint8_t type, Reader& r, Writer& w);
  int op_version(Reader& r, Writer& w);
  int op_attach(Reader& r, Writer& w);
  int op_walk(Reader& r, Writer& w);
  int op_clunk(Reader& r, bool remove);
  int op_getattr(Reader& r, Writer& w);
  int op_setattr(Reader& r);
  int op_lopen(Reader& r, Writer& w);
  int op_lcreate(Reader& r, Writer& w);
  int op_read(Reader& r, Writer& w);
  int op_write(Reader& r, Writer& w);
  int op_readdir(Reader& r, Writer& w);
  int op_mkdir(Reader& r, Writer& w);
  int op_symlink(Reader& r, Writer& w);
  int op_mknod(Reader& r, Writer& w);
  int op_link(Reader& r);
  int op_readlink(Reader& r, Writer& w);
  int op_rename(Reader& r);
  int op_renameat(Reader& r);
  int op_unlinkat(Reader& r);
  int op_statfs(Reader& r, Writer& w);
  int op_fsync(Reader& r);
  int op_xattrwalk(Reader& r, Writer& w);
  int op_lock(Reader& r, Writer& w, bool get);

  Fid* find(uint32_t fid);
  int new_fid(uint32_t fid, Fid** out);
  void drop(uint32_t fid);
  int ensure_open(Fid& f);
  int stat_of(const Fid& f, Attr* a);
  void apply_recorded(Attr* a) const;
  void write_qid(Writer& w, const Attr& a) const;
  uint64_t qid_path(uint64_t ino, uint64_t dev) const;
  int qid_of(const std::string& path, Writer& w);
  void moved(const std::string& from, const std::string& to);
  int record(const Attr& a, uint8_t bits, uint32_t mode, uint32_t uid, uint32_t gid);

  HostFs* fs_;
  ServerOptions opts_;
  uint32_t msize_;
  uint64_t root_dev_ = 0;
  bool root_dev_known_ = false;
  std::map<uint32_t, Fid> fids_;
  std::map<uint64_t, Recorded> recorded_;  // by qid path
};

// Name checks shared by the server's operations.
// 0 if name may be created or looked up as one component; kEINVAL or kENAMETOOLONG if not.
int check_name(std::string_view name);
// parent + "/" + name (or name at the root); kENAMETOOLONG if it would exceed kPathMax.
int join_path(const std::string& parent, std::string_view name, std::string* out);

}  // namespace c2w::p9
