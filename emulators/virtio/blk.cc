#include "emulators/virtio/blk.h"

#include <cstring>

namespace c2w::virtio {
namespace {

constexpr uint32_t kHeader = 16;  // le32 type, le32 reserved, le64 sector
constexpr uint8_t kStateFormat = 1;

// Config space offsets (struct virtio_blk_config).
constexpr uint32_t kCfgCapacity = 0, kCfgSegMax = 12, kCfgBlkSize = 20;

uint8_t byte_of(uint64_t v, uint32_t i) {
  return static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

Blk::Blk(emulators::BlockSource* disk, std::string id) : disk_(disk), id_(std::move(id)) {
  if (id_.size() > kIdBytes) id_.resize(kIdBytes);
  const uint64_t size = disk_->size();
  const uint64_t blocks = size / kBlockSize + (size % kBlockSize != 0);
  capacity_ = blocks * (kBlockSize / kSectorSize);
}

uint8_t Blk::config_read(uint32_t offset) {
  if (offset - kCfgCapacity < 8) return byte_of(capacity_, offset - kCfgCapacity);
  if (offset - kCfgSegMax < 4) return byte_of(kSegMax, offset - kCfgSegMax);
  if (offset - kCfgBlkSize < 4) return byte_of(kBlockSize, offset - kCfgBlkSize);
  return 0;
}

void Blk::queue_notify(unsigned q) {
  if (q != 0) return;
  if (transport_->queue(0).serve_all(transport_->ram(), &chain_,
                                     [this](const Chain& c) { return serve(c); }))
    transport_->notify_used(0);
}

bool Blk::read_into(const Chain& c, uint64_t offset, uint64_t len) {
  const emulators::GuestRam& ram = transport_->ram();
  const uint64_t size = disk_->size();
  for (const Segment& s : c.writable) {
    if (len == 0) break;
    const uint64_t n = s.len < len ? s.len : len;
    uint8_t* dst = ram.ptr(s.addr, n);
    if (!dst) return false;
    // Bytes past the source's end (the rest of the last block) read as zeros.
    const uint64_t have = offset < size ? size - offset : 0;
    const uint64_t from_disk = n < have ? n : have;
    if (from_disk && !disk_->read(offset, dst, from_disk)) {
      ++source_errors_;
      return false;
    }
    if (from_disk < n) std::memset(dst + from_disk, 0, n - from_disk);
    offset += n;
    len -= n;
  }
  return len == 0;
}

uint32_t Blk::serve(const Chain& c) {
  const emulators::GuestRam& ram = transport_->ram();
  if (c.writable_len == 0) return 0;  // no status byte to answer in
  const uint64_t status_at = c.writable_len - 1;
  const uint64_t data_len = status_at;  // the writable bytes before the status
  uint8_t status = kIoErr;
  uint64_t written = 0;  // data bytes written
  uint8_t h[kHeader];
  if (c.readable_len >= kHeader && c.read(ram, 0, h, kHeader) == kHeader) {
    uint32_t type;
    uint64_t sector;
    std::memcpy(&type, h, 4);
    std::memcpy(&sector, h + 8, 8);
    const bool header_only = c.readable_len == kHeader;
    switch (type) {
      case kIn:
        if (!header_only || data_len % kSectorSize != 0 || data_len > kMaxRequest ||
            sector > capacity_ || data_len / kSectorSize > capacity_ - sector)
          break;
        written = data_len;
        if (read_into(c, sector * kSectorSize, data_len)) status = kOk;
        break;
      case kOut:
        break;  // read-only: IOERR, and the data is never looked at
      case kFlush:
        status = kOk;
        break;
      case kGetId:
        if (!header_only) break;
        {
          char id[kIdBytes] = {};
          std::memcpy(id, id_.data(), id_.size());
          written = c.write(ram, 0, id, data_len < kIdBytes ? data_len : kIdBytes);
          status = kOk;
        }
        break;
      default:
        status = kUnsupp;
        break;
    }
  }
  c.write(ram, status_at, &status, 1);
  return static_cast<uint32_t>(written + 1);
}

// Format: u8 kStateFormat, u64 capacity in sectors, str id.
void Blk::save(emulators::ByteWriter& w) const {
  w.u8(kStateFormat);
  w.u64(capacity_);
  w.str(id_);
}

bool Blk::load(emulators::ByteReader& r) {
  if (r.u8() != kStateFormat || r.u64() != capacity_ || r.str(kIdBytes) != id_) return false;
  return r.ok();
}

}  // namespace c2w::virtio
