#include "emulators/common/byte_io.h"

#include <cstring>

namespace c2w::emulators {

void ByteWriter::bytes(const void* data, uint64_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  buf_.insert(buf_.end(), p, p + len);
}

void ByteWriter::str(std::string_view s) {
  u32(static_cast<uint32_t>(s.size()));
  bytes(s.data(), s.size());
}

uint64_t ByteWriter::begin_section(const char tag[4]) {
  bytes(tag, 4);
  const uint64_t start = buf_.size();
  u64(0);
  return start;
}

void ByteWriter::end_section(uint64_t start) {
  const uint64_t len = buf_.size() - start - 8;
  for (unsigned i = 0; i < 8; ++i) buf_[start + i] = static_cast<uint8_t>(len >> (8 * i));
}

uint64_t ByteReader::get(unsigned n) {
  if (!ok_ || len_ - pos_ < n) {
    ok_ = false;
    return 0;
  }
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= uint64_t{p_[pos_ + i]} << (8 * i);
  pos_ += n;
  return v;
}

bool ByteReader::bytes(void* out, uint64_t len) {
  const uint8_t* p = view(len);
  if (!p) {
    std::memset(out, 0, len);
    return false;
  }
  std::memcpy(out, p, len);
  return true;
}

const uint8_t* ByteReader::view(uint64_t len) {
  if (!ok_ || len_ - pos_ < len) {
    ok_ = false;
    return nullptr;
  }
  const uint8_t* p = p_ + pos_;
  pos_ += len;
  return p;
}

std::string ByteReader::str(uint32_t max_len) {
  const uint32_t n = u32();
  if (n > max_len) {
    ok_ = false;
    return {};
  }
  const uint8_t* p = view(n);
  return p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

ByteReader ByteReader::section(const char tag[4]) {
  const uint8_t* t = view(4);
  if (!t || std::memcmp(t, tag, 4) != 0) {
    ok_ = false;
    ByteReader bad(nullptr, 0);
    bad.fail();
    return bad;
  }
  const uint64_t len = u64();
  const uint8_t* body = view(len);
  if (!body) {
    ByteReader bad(nullptr, 0);
    bad.fail();
    return bad;
  }
  return ByteReader(body, len);
}

}  // namespace c2w::emulators
