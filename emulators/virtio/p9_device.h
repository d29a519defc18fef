// virtio 9P transport device. The virtio spec (1.2) only reserves its device id, 9, and has no
// section for it; the layout every driver and QEMU use is Linux's uapi virtio_9p.h: one request
// queue, feature VIRTIO_9P_MOUNT_TAG (bit 0), config space = le16 tag_len then the tag bytes (no
// NUL). Each available chain is one 9P2000.L request (driver-readable part) with room for its
// reply (device-writable part), answered synchronously by a p9::Server over one share.
//
// The device may be created unbound (tag only) and bound to a share later with bind(): a runtime
// boots and snapshots a machine with a fixed set of 9p devices before it knows which host
// directories will be shared, then binds them after restoring.
//
// Promises, per chain (every length and address comes from the guest):
//  - Only the first min(readable length, limit) request bytes are ever copied out of the guest,
//    where limit is the bound server's max msize (7 header bytes when unbound). A request whose
//    readable part is longer than max msize is answered Rlerror(EMSGSIZE) with its tag; a
//    readable part shorter than the 7-byte header is answered with tag NOTAG (EINVAL).
//  - The reply is at most min(writable length, max msize) bytes and is scattered across the
//    device-writable descriptors; the used length is the reply's length. A writable part too
//    small for any reply (< 11 bytes, the size of an Rlerror) is returned with used length 0:
//    the device stays usable (no DEVICE_NEEDS_RESET) and only that request is lost.
//  - An unbound device answers every request with Rlerror(ENODEV) ("no such device"), echoing
//    the request's tag: a guest that mounts the tag before the host binds it gets a clear mount
//    error, never a hang.
//  - A malformed ring (bad addresses, loops, overlong chains) is caught by Virtqueue: the queue
//    is marked broken and the transport reports DEVICE_NEEDS_RESET.
//  - Work per notify is bounded by the queue size (each available entry is popped once).
//
// Snapshots: save() stores the tag and, if a session exists, the Server's own save() bytes (a
// bound device always has one; an unbound device has one only if it was loaded from a snapshot
// that had one). load() requires the same tag. Loading a session into a bound device restores it
// into the server (a malformed session fails the load); loading one into an unbound device keeps
// the bytes until bind(), which restores them into the new server (bind fails with the Server's
// error and the device stays unbound if they do not fit the share or options). A driver reset
// drops the session, bound or not.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "emulators/p9/hostfs.h"
#include "emulators/p9/server.h"
#include "emulators/virtio/device.h"

namespace c2w::virtio {

class P9Device : public Device {
 public:
  static constexpr uint32_t kDeviceId = 9;
  static constexpr uint64_t kFeatureMountTag = 1;  // VIRTIO_9P_MOUNT_TAG
  static constexpr size_t kMaxTagLen = 255;
  static constexpr uint64_t kMaxSavedSession = 64u << 20;

  // A tag is 1..kMaxTagLen bytes without NUL (the guest names it in `mount -t 9p TAG dir`).
  static bool valid_tag(std::string_view tag);
  // An unbound device with this tag; null if the tag is not valid.
  static std::unique_ptr<P9Device> create(std::string tag);
  ~P9Device() override;

  // Serves `fs` from now on. Returns 0, kEBUSY (linux_abi.h) if already bound, kEINVAL for a
  // null fs, or the Server's restore error for a session kept from load() (still unbound then).
  int bind(std::unique_ptr<p9::HostFs> fs, const p9::ServerOptions& opts);
  bool bound() const { return server_ != nullptr; }
  const std::string& tag() const { return tag_; }
  // Whether an unbound device holds a session from load() that bind() will restore.
  bool has_pending_session() const { return !pending_.empty(); }

  uint32_t device_id() const override { return kDeviceId; }
  uint64_t features() const override { return kFeatureMountTag; }
  unsigned num_queues() const override { return 1; }
  uint32_t config_size() const override { return static_cast<uint32_t>(2 + tag_.size()); }
  uint8_t config_read(uint32_t offset) override;
  void reset() override;
  void queue_notify(unsigned q) override;
  void save(emulators::ByteWriter& w) const override;
  bool load(emulators::ByteReader& r) override;

 private:
  explicit P9Device(std::string tag) : tag_(std::move(tag)) {}
  // Answers one chain; returns the number of reply bytes written to it.
  uint32_t serve(const Chain& c);
  uint32_t reply_error(const Chain& c, uint16_t tag, uint32_t err);

  std::string tag_;
  p9::ServerOptions opts_;
  // fs_ outlives server_ (declared first, destroyed last): the server closes handles in it.
  std::unique_ptr<p9::HostFs> fs_;
  std::unique_ptr<p9::Server> server_;
  std::vector<uint8_t> pending_;  // a loaded session waiting for bind()
  Chain chain_;
  std::vector<uint8_t> req_, resp_;  // grown on demand, at most max msize each
};

}  // namespace c2w::virtio
