// virtio block device (device id 2, virtio spec 1.2 section 5.2), read-only, over a
// BlockSource (emulators/common/block_source.h): the container's root filesystem image.
//
// Offered features: VIRTIO_BLK_F_RO, F_BLK_SIZE (kBlockSize), F_SEG_MAX (kSegMax data
// segments a request), F_FLUSH (answered OK: nothing is ever written). Config space: capacity
// in 512-byte sectors = the source's size rounded up to a whole block (the bytes past the
// source's end read as zeros), seg_max, blk_size; every other field of struct
// virtio_blk_config reads as zero.
//
// One request queue. Each available chain is one request, answered synchronously: a 16-byte
// header (le32 type, le32 reserved, le64 sector) at the start of the device-readable part
// (split across descriptors or not), data, and the status byte as the last byte of the
// device-writable part. Every field comes from the guest and is checked:
//  - no device-writable byte at all: the chain is returned with used length 0 (nowhere to put
//    a status); the device stays usable;
//  - a readable part shorter than the header: IOERR;
//  - T_IN: the readable part must be exactly the header (data the device would have to read
//    from is the wrong direction), the data length (writable part minus the status byte) a
//    multiple of 512 and at most kMaxRequest, and [sector, sector + data) within capacity
//    (overflow-safe): otherwise IOERR with no data written. The data is read from the source
//    straight into the guest's buffers; a source failure (a corrupt chunk) is IOERR and counts
//    in source_errors();
//  - T_OUT: IOERR, nothing read or written but the status (the disk is read-only);
//  - T_FLUSH: OK; T_GET_ID: the id (NUL-padded to 20 bytes) into the data part, at most its
//    length; any other type (discard, write zeroes, legacy SCSI, ...): UNSUPP;
//  - used length: the status byte plus the data bytes the device wrote (for a T_IN that failed
//    part way, the whole data length: an upper bound).
// A malformed ring (bad addresses, loops, chains past Virtqueue::kMaxChain, readable after
// writable) is caught by Virtqueue: the queue is broken and the transport reports
// DEVICE_NEEDS_RESET. Work per notify is bounded by the ring size.
//
// Snapshots: the device holds no request state between calls. save() stores a format byte,
// the capacity and the id; load() requires the same capacity and id, so a snapshot restores
// only onto the same-sized disk. The source itself is not saved: the embedder attaches it again.
#pragma once

#include <cstdint>
#include <string>

#include "emulators/common/block_source.h"
#include "emulators/virtio/device.h"

namespace c2w::virtio {

class Blk : public Device {
 public:
  static constexpr uint32_t kDeviceId = 2;
  static constexpr uint64_t kFeatureSegMax = uint64_t{1} << 2;
  static constexpr uint64_t kFeatureRo = uint64_t{1} << 5;
  static constexpr uint64_t kFeatureBlkSize = uint64_t{1} << 6;
  static constexpr uint64_t kFeatureFlush = uint64_t{1} << 9;
  static constexpr uint32_t kSectorSize = 512;
  static constexpr uint32_t kBlockSize = 4096;
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint32_t kSegMax = kQueueSize - 2;  // header and status take two descriptors
  // Linux sends at most max_sectors_kb (1280 KiB by default) a request; a larger one is IOERR,
  // so one request cannot keep the emulator busy for long.
  static constexpr uint64_t kMaxRequest = 64 << 20;
  static constexpr uint32_t kIdBytes = 20;
  static constexpr uint32_t kConfigSize = 96;  // struct virtio_blk_config, zoned fields included

  enum Type : uint32_t { kIn = 0, kOut = 1, kFlush = 4, kGetId = 8 };
  enum Status : uint8_t { kOk = 0, kIoErr = 1, kUnsupp = 2 };

  // `disk` (not owned, not null) must outlive the device. `id` is cut to kIdBytes.
  explicit Blk(emulators::BlockSource* disk, std::string id = "c2w-disk");

  uint64_t capacity_sectors() const { return capacity_; }
  const std::string& id() const { return id_; }
  // Requests that failed because the source could not produce the bytes (not guest errors).
  uint64_t source_errors() const { return source_errors_; }

  uint32_t device_id() const override { return kDeviceId; }
  uint64_t features() const override {
    return kFeatureSegMax | kFeatureRo | kFeatureBlkSize | kFeatureFlush;
  }
  unsigned num_queues() const override { return 1; }
  uint16_t queue_max_size(unsigned /*queue*/) const override { return kQueueSize; }
  uint32_t config_size() const override { return kConfigSize; }
  uint8_t config_read(uint32_t offset) override;
  void reset() override {}
  void queue_notify(unsigned q) override;
  void save(emulators::ByteWriter& w) const override;
  bool load(emulators::ByteReader& r) override;

 private:
  // Answers one chain; returns the used length.
  uint32_t serve(const Chain& c);
  // Reads disk bytes [offset, offset + len) into the writable part at byte 0.
  bool read_into(const Chain& c, uint64_t offset, uint64_t len);

  emulators::BlockSource* disk_;
  std::string id_;
  uint64_t capacity_;  // in sectors
  uint64_t source_errors_ = 0;
  Chain chain_;
};

}  // namespace c2w::virtio
