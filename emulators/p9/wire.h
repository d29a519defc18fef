// Little-endian 9P wire encoding over caller-owned buffers. Reader never reads past its end:
// an overrun sets ok = false and yields zeros/empty strings, so a handler can parse every
// argument first and check ok once. Writer never writes past its capacity in the same way.
// Neither allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace c2w::p9 {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return n_ - off_; }
  const uint8_t* cursor() const { return p_ + off_; }

  uint8_t u8() { return static_cast<uint8_t>(take(1)); }
  uint16_t u16() { return static_cast<uint16_t>(take(2)); }
  uint32_t u32() { return static_cast<uint32_t>(take(4)); }
  uint64_t u64() { return take(8); }

  // A 9P string: len[2] then bytes. The view points into the request buffer.
  std::string_view str() {
    uint16_t len = u16();
    if (!ok_ || len > remaining()) {
      ok_ = false;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p_ + off_), len);
    off_ += len;
    return s;
  }

  // Consumes n raw bytes; returns nullptr (and !ok) when fewer remain.
  const uint8_t* bytes(size_t n) {
    if (!ok_ || n > remaining()) {
      ok_ = false;
      return nullptr;
    }
    const uint8_t* b = p_ + off_;
    off_ += n;
    return b;
  }

 private:
  uint64_t take(size_t k) {
    if (!ok_ || k > remaining()) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < k; ++i) v |= uint64_t{p_[off_ + i]} << (8 * i);
    off_ += k;
    return v;
  }

  const uint8_t* p_;
  size_t n_;
  size_t off_ = 0;
  bool ok_ = true;
};

class Writer {
 public:
  Writer(uint8_t* data, size_t cap) : p_(data), cap_(cap) {}

  bool ok() const { return ok_; }
  size_t size() const { return off_; }
  size_t room() const { return cap_ - off_; }
  uint8_t* cursor() { return p_ + off_; }

  void u8(uint8_t v) { put(v, 1); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void str(std::string_view s) {
    if (s.size() > 0xffff) {
      ok_ = false;
      return;
    }
    u16(static_cast<uint16_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void bytes(const void* b, size_t n) {
    if (!ok_ || n > room()) {
      ok_ = false;
      return;
    }
    if (n) std::memcpy(p_ + off_, b, n);
    off_ += n;
  }
  // Marks n bytes, already written at cursor() by the caller, as part of the message.
  void advance(size_t n) {
    if (!ok_ || n > room()) {
      ok_ = false;
      return;
    }
    off_ += n;
  }
  // Overwrite a value at an earlier position (message size, counts known only at the end).
  void patch_u16(size_t at, uint16_t v) { patch(at, v, 2); }
  void patch_u32(size_t at, uint32_t v) { patch(at, v, 4); }

 private:
  void patch(size_t at, uint32_t v, size_t k) {
    if (at > off_ || k > off_ - at) return;
    for (size_t i = 0; i < k; ++i) p_[at + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  void put(uint64_t v, size_t k) {
    if (!ok_ || k > room()) {
      ok_ = false;
      return;
    }
    for (size_t i = 0; i < k; ++i) p_[off_ + i] = static_cast<uint8_t>(v >> (8 * i));
    off_ += k;
  }

  uint8_t* p_;
  size_t cap_;
  size_t off_ = 0;
  bool ok_ = true;
};

}  // namespace c2w::p9
