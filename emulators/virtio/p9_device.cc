#include "emulators/virtio/p9_device.h"

#include <algorithm>

#include "emulators/p9/linux_abi.h"

namespace c2w::virtio {
namespace {

constexpr uint32_t kHeader = 7;        // size[4] type[1] tag[2]
constexpr uint32_t kRlerrorSize = 11;  // header + ecode[4]
constexpr uint8_t kSessionFormat = 1;

}  // namespace

bool P9Device::valid_tag(std::string_view tag) {
  return !tag.empty() && tag.size() <= kMaxTagLen && tag.find('\0') == std::string_view::npos;
}

std::unique_ptr<P9Device> P9Device::create(std::string tag) {
  if (!valid_tag(tag)) return nullptr;
  return std::unique_ptr<P9Device>(new P9Device(std::move(tag)));
}

P9Device::~P9Device() {
  server_.reset();  // before fs_, whatever the member order
}

int P9Device::bind(std::unique_ptr<p9::HostFs> fs, const p9::ServerOptions& opts) {
  if (!fs) return p9::kEINVAL;
  if (server_) return p9::kEBUSY;
  auto server = std::make_unique<p9::Server>(fs.get(), opts);
  if (!pending_.empty()) {
    if (const int err = server->restore(pending_.data(), pending_.size())) return err;
  }
  opts_ = opts;
  opts_.max_msize = std::max(opts.max_msize, p9::Server::kMinMsize);  // as the Server does
  fs_ = std::move(fs);
  server_ = std::move(server);
  pending_.clear();
  pending_.shrink_to_fit();
  return 0;
}

uint8_t P9Device::config_read(uint32_t offset) {
  const auto len = static_cast<uint16_t>(tag_.size());
  if (offset == 0) return static_cast<uint8_t>(len);
  if (offset == 1) return static_cast<uint8_t>(len >> 8);
  if (offset - 2 < tag_.size()) return static_cast<uint8_t>(tag_[offset - 2]);
  return 0;
}

void P9Device::reset() {
  // A reset driver starts a new session (Tversion); fids and a kept session are gone.
  if (server_) server_ = std::make_unique<p9::Server>(fs_.get(), opts_);
  pending_.clear();
}

void P9Device::queue_notify(unsigned q) {
  if (q != 0) return;
  if (transport_->queue(0).serve_all(transport_->ram(), &chain_,
                                     [this](const Chain& c) { return serve(c); }))
    transport_->notify_used(0);
}

uint32_t P9Device::reply_error(const Chain& c, uint16_t tag, uint32_t err) {
  if (c.writable_len < kRlerrorSize) return 0;
  uint8_t m[kRlerrorSize] = {kRlerrorSize, 0, 0, 0, p9::kRlerror};  // size[4] type[1]
  for (int i = 0; i < 2; ++i) m[5 + i] = static_cast<uint8_t>(tag >> (8 * i));
  for (int i = 0; i < 4; ++i) m[7 + i] = static_cast<uint8_t>(err >> (8 * i));
  return static_cast<uint32_t>(c.write(transport_->ram(), 0, m, kRlerrorSize));
}

uint32_t P9Device::serve(const Chain& c) {
  const emulators::GuestRam& ram = transport_->ram();
  uint8_t head[kHeader];
  const bool has_tag = c.read(ram, 0, head, kHeader) == kHeader;
  const uint16_t tag = has_tag ? static_cast<uint16_t>(head[5] | head[6] << 8) : p9::kNoTag;
  if (!server_) return reply_error(c, tag, p9::kENODEV);
  if (c.readable_len > opts_.max_msize) return reply_error(c, tag, p9::kEMSGSIZE);
  const uint64_t cap = std::min<uint64_t>(c.writable_len, opts_.max_msize);
  if (cap < kRlerrorSize) return 0;
  const auto len = static_cast<size_t>(c.readable_len);
  if (req_.size() < len) req_.resize(len);
  if (resp_.size() < cap) resp_.resize(cap);
  const size_t got = c.read(ram, 0, req_.data(), len);
  const size_t n = server_->handle(req_.data(), got, resp_.data(), static_cast<size_t>(cap));
  return static_cast<uint32_t>(c.write(ram, 0, resp_.data(), n));
}

// Format: u8 kSessionFormat, str tag, u8 has_session, [u32 length, the Server's bytes].
void P9Device::save(emulators::ByteWriter& w) const {
  w.u8(kSessionFormat);
  w.str(tag_);
  std::vector<uint8_t> session;
  if (server_)
    session = server_->save();
  else
    session = pending_;
  w.boolean(!session.empty());
  if (session.empty()) return;
  w.u32(static_cast<uint32_t>(session.size()));
  w.bytes(session.data(), session.size());
}

bool P9Device::load(emulators::ByteReader& r) {
  if (r.u8() != kSessionFormat || r.str(kMaxTagLen) != tag_) return false;
  const bool has_session = r.boolean();
  const uint32_t n = has_session ? r.u32() : 0;
  if (!r.ok() || (has_session && (n == 0 || n > kMaxSavedSession))) return false;
  const uint8_t* bytes = has_session ? r.view(n) : nullptr;
  if (has_session && !bytes) return false;
  if (server_) {
    if (!has_session) {
      server_ = std::make_unique<p9::Server>(fs_.get(), opts_);
      return true;
    }
    return server_->restore(bytes, n) == 0;
  }
  if (has_session)
    pending_.assign(bytes, bytes + n);
  else
    pending_.clear();
  return true;
}

}  // namespace c2w::virtio
