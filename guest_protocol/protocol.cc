#include "guest_protocol/protocol.h"

#include <type_traits>

namespace c2w::guest_protocol {

namespace {

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u16(uint16_t v) {
    for (int i = 0; i < 2; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void i64(int64_t v) {
    uint64_t u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(u >> (8 * i)));
  }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void strings(const std::vector<std::string>& list) {
    u32(static_cast<uint32_t>(list.size()));
    for (const std::string& s : list) str(s);
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Reads fields from one payload; the first failure sticks and later reads return zeroes, so
// decoders read every field and check ok() once.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool at_end() const { return pos_ == in_.size(); }
  void fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }

  uint8_t u8() {
    if (!need(1, "u8")) return 0;
    return static_cast<uint8_t>(in_[pos_++]);
  }
  bool boolean() {
    uint8_t v = u8();
    if (v > 1) fail("bool field holds " + std::to_string(v));
    return v == 1;
  }
  uint16_t u16() {
    if (!need(2, "u16")) return 0;
    uint16_t v = 0;
    for (int i = 0; i < 2; ++i) v |= static_cast<uint16_t>(byte(i) << (8 * i));
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    if (!need(4, "u32")) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(byte(i)) << (8 * i);
    pos_ += 4;
    return v;
  }
  int64_t i64() {
    if (!need(8, "i64")) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(byte(i)) << (8 * i);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }
  std::string str() {
    uint32_t n = u32();
    if (!need(n, "string")) return {};
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A hostile count cannot make us allocate much: each item needs at least `min_item` bytes
  // that must be present, so the count is checked against what is left before reserving.
  uint32_t count(size_t min_item) {
    uint32_t n = u32();
    if (ok() && static_cast<uint64_t>(n) * min_item > in_.size() - pos_) {
      fail("list of " + std::to_string(n) + " items is longer than the message");
      return 0;
    }
    return n;
  }
  std::vector<std::string> strings() {
    std::vector<std::string> list;
    uint32_t n = count(4);
    list.reserve(n);
    for (uint32_t i = 0; i < n && ok(); ++i) list.push_back(str());
    return list;
  }

 private:
  uint32_t byte(int i) const { return static_cast<uint8_t>(in_[pos_ + i]); }
  bool need(size_t n, const char* what) {
    if (!ok()) return false;
    if (in_.size() - pos_ < n) {
      fail(std::string("message ends inside a ") + what + " field");
      return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

void write_body(Writer& w, const Message& message) {
  std::visit(Overload{
                 [&](const Ready&) { w.u8(static_cast<uint8_t>(MessageType::kReady)); },
                 [&](const RunRequest& r) {
                   w.u8(static_cast<uint8_t>(MessageType::kRun));
                   w.boolean(r.args_set);
                   w.strings(r.args);
                   w.boolean(r.entrypoint_set);
                   w.strings(r.entrypoint);
                   w.strings(r.env);
                   w.u32(static_cast<uint32_t>(r.mounts.size()));
                   for (const Mount& m : r.mounts) {
                     w.str(m.tag);
                     w.str(m.path);
                     w.boolean(m.read_only);
                   }
                   w.boolean(r.stdin_open);
                   w.boolean(r.terminal);
                   w.u16(r.rows);
                   w.u16(r.cols);
                   w.i64(r.time_sec);
                   w.u32(r.time_nsec);
                   w.boolean(r.debug);
                 },
                 [&](const Exit& e) {
                   w.u8(static_cast<uint8_t>(MessageType::kExit));
                   w.u8(static_cast<uint8_t>(e.kind));
                   w.u32(e.value);
                 },
                 [&](const Log& l) {
                   w.u8(static_cast<uint8_t>(MessageType::kLog));
                   w.str(l.text);
                 },
                 [&](const Resize& r) {
                   w.u8(static_cast<uint8_t>(MessageType::kResize));
                   w.u16(r.rows);
                   w.u16(r.cols);
                 },
                 [&](const Signal& s) {
                   w.u8(static_cast<uint8_t>(MessageType::kSignal));
                   w.u32(s.number);
                 },
                 [&](const ImageConfig& c) {
                   w.u8(static_cast<uint8_t>(MessageType::kConfig));
                   w.strings(c.entrypoint);
                   w.strings(c.cmd);
                   w.strings(c.env);
                   w.str(c.working_dir);
                   w.str(c.user);
                   w.u32(static_cast<uint32_t>(c.xattrs.size()));
                   for (const Xattr& x : c.xattrs) {
                     w.str(x.path);
                     w.str(x.name);
                     w.str(x.value);
                   }
                 },
             },
             message);
}

Message read_body(Reader& r) {
  uint8_t type = r.u8();
  switch (static_cast<MessageType>(type)) {
    case MessageType::kReady:
      return Ready{};
    case MessageType::kRun: {
      RunRequest q;
      q.args_set = r.boolean();
      q.args = r.strings();
      q.entrypoint_set = r.boolean();
      q.entrypoint = r.strings();
      q.env = r.strings();
      uint32_t n = r.count(9);
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        Mount m;
        m.tag = r.str();
        m.path = r.str();
        m.read_only = r.boolean();
        q.mounts.push_back(std::move(m));
      }
      q.stdin_open = r.boolean();
      q.terminal = r.boolean();
      q.rows = r.u16();
      q.cols = r.u16();
      q.time_sec = r.i64();
      q.time_nsec = r.u32();
      if (r.ok() && q.time_nsec >= 1000000000u) r.fail("time_nsec is not below one second");
      q.debug = r.boolean();
      return q;
    }
    case MessageType::kExit: {
      Exit e;
      uint8_t kind = r.u8();
      if (r.ok() && kind > 1) r.fail("exit kind " + std::to_string(kind) + " is unknown");
      e.kind = static_cast<Exit::Kind>(kind);
      e.value = r.u32();
      return e;
    }
    case MessageType::kLog:
      return Log{r.str()};
    case MessageType::kResize: {
      Resize z;
      z.rows = r.u16();
      z.cols = r.u16();
      return z;
    }
    case MessageType::kSignal:
      return Signal{r.u32()};
    case MessageType::kConfig: {
      ImageConfig c;
      c.entrypoint = r.strings();
      c.cmd = r.strings();
      c.env = r.strings();
      c.working_dir = r.str();
      c.user = r.str();
      uint32_t n = r.count(12);
      for (uint32_t i = 0; i < n && r.ok(); ++i) {
        Xattr x;
        x.path = r.str();
        x.name = r.str();
        x.value = r.str();
        c.xattrs.push_back(std::move(x));
      }
      return c;
    }
  }
  if (r.ok()) r.fail("unknown message type " + std::to_string(type));
  return Ready{};
}

std::string_view env_key(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

}  // namespace

std::string encode(const Message& message) {
  Writer w;
  w.u32(0);  // length, patched below
  w.u8(kVersion);
  write_body(w, message);
  std::string& out = w.out();
  uint32_t n = static_cast<uint32_t>(out.size() - 4);
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(static_cast<uint8_t>(n >> (8 * i)));
  return std::move(out);
}

Decoded decode_frame(std::string_view bytes) {
  Decoded d;
  if (bytes.size() < 4) return d;
  Reader head(bytes.substr(0, 4));
  uint32_t n = head.u32();
  if (n > kMaxPayload) {
    d.status = DecodeStatus::kError;
    d.error = "frame of " + std::to_string(n) + " bytes is over the limit of " +
              std::to_string(kMaxPayload);
    return d;
  }
  if (n < 2) {
    d.status = DecodeStatus::kError;
    d.error = "frame of " + std::to_string(n) + " bytes is too short for a header";
    return d;
  }
  if (bytes.size() - 4 < n) return d;
  Reader r(bytes.substr(4, n));
  uint8_t version = r.u8();
  if (version != kVersion) {
    d.status = DecodeStatus::kError;
    d.error = "protocol version " + std::to_string(version) + " is not the supported " +
              std::to_string(kVersion);
    return d;
  }
  d.message = read_body(r);
  if (r.ok() && !r.at_end()) r.fail("message has trailing bytes");
  if (!r.ok()) {
    d.status = DecodeStatus::kError;
    d.error = r.error();
    return d;
  }
  d.status = DecodeStatus::kOk;
  d.consumed = 4 + static_cast<size_t>(n);
  return d;
}

Decoded FrameReader::next() {
  if (!error_.empty()) {
    Decoded d;
    d.status = DecodeStatus::kError;
    d.error = error_;
    return d;
  }
  Decoded d = decode_frame(buffer_);
  if (d.status == DecodeStatus::kOk) buffer_.erase(0, d.consumed);
  if (d.status == DecodeStatus::kError) error_ = d.error;
  return d;
}

void merge_env(std::vector<std::string>& env, const std::vector<std::string>& add) {
  for (const std::string& entry : add) {
    bool replaced = false;
    for (std::string& have : env) {
      if (env_key(have) == env_key(entry)) {
        have = entry;
        replaced = true;
        break;
      }
    }
    if (!replaced) env.push_back(entry);
  }
}

}  // namespace c2w::guest_protocol
