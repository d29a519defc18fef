// Little-endian byte streams for snapshots and other explicit binary formats. Every field is
// written one by one (never a memcpy of a struct), so the format does not depend on the host's
// padding, pointer size or size_t: a native build writes what a wasm32 build reads.
//
// ByteReader never reads past its input: a short or corrupt input sets ok() to false and makes
// every later read return zeros, so callers check ok() once at the end of a section.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace c2w::emulators {

class ByteWriter {
 public:
  void u8(uint8_t v) { buf_.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void bytes(const void* data, uint64_t len);
  // A length-prefixed (u32) byte string.
  void str(std::string_view s);

  // Sections: a four-character tag and a u64 length that end_section() fills in, so a reader
  // can skip sections it does not know.
  uint64_t begin_section(const char tag[4]);
  void end_section(uint64_t start);

  const std::vector<uint8_t>& data() const { return buf_; }
  std::vector<uint8_t>& data() { return buf_; }

 private:
  void put(uint64_t v, unsigned n) {
    for (unsigned i = 0; i < n; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> buf_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, uint64_t len) : p_(data), len_(len) {}

  uint8_t u8() { return static_cast<uint8_t>(get(1)); }
  uint16_t u16() { return static_cast<uint16_t>(get(2)); }
  uint32_t u32() { return static_cast<uint32_t>(get(4)); }
  uint64_t u64() { return get(8); }
  bool boolean() { return u8() != 0; }
  // Copies len bytes, or fails (and zero-fills) if fewer remain.
  bool bytes(void* out, uint64_t len);
  // A pointer to the next len bytes (consumed), or nullptr if fewer remain.
  const uint8_t* view(uint64_t len);
  // A u32-length-prefixed string of at most max_len bytes.
  std::string str(uint32_t max_len = 1 << 20);

  // Reads a section header; returns a reader over its payload and skips it in this reader.
  // Fails (ok() false) unless the next section has the given tag.
  ByteReader section(const char tag[4]);

  void fail() { ok_ = false; }
  bool ok() const { return ok_; }
  uint64_t remaining() const { return ok_ ? len_ - pos_ : 0; }

 private:
  uint64_t get(unsigned n);
  const uint8_t* p_;
  uint64_t len_;
  uint64_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace c2w::emulators
