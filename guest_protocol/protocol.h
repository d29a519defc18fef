// The control protocol between the emulator (host) and guest init, and the image-config file
// rootfs writes for init. Portable C++20 with no dependencies and no exceptions: the
// same code is compiled natively (engine, tests), for wasm32-wasi (the runtime) and for
// riscv64 (init). Errors are return values.
//
// Channels: four named ports of one virtio console (multiport), found by the guest under
// /sys/class/virtio-ports/*/name:
//   c2w.control  framed messages, both directions (below)
//   c2w.stdin    raw bytes host -> container stdin (the terminal's input in terminal mode);
//                the host closing the port (VIRTIO_CONSOLE_PORT_OPEN 0) is end of input. The
//                host keeps input until the guest has opened the port and closes it only
//                after every byte was delivered (Linux reads 0 once the host is gone).
//   c2w.stdout   raw bytes of container stdout (in terminal mode: the terminal's output)
//   c2w.stderr   raw bytes of container stderr (unused in terminal mode, as with docker -t)
// hvc0 (SBI console) stays the kernel's console: kernel messages and --debug-image logs.
//
// Frame: u32 little-endian payload length (at most kMaxPayload), then the payload:
//   u8 protocol version (kVersion), u8 message type, the type's fields in the order below.
// Field encodings: u8; bool = u8 0 or 1; u16/u32 little-endian; i64 little-endian two's
// complement; str = u32 length + bytes; list = u32 count + items. A payload must be consumed
// exactly: trailing bytes, short fields, bad bools or unknown types are errors.
//
// Messages (type number: fields):
//   init -> host
//     1 ready   (none)  sent once after boot; init then blocks reading the run request, which
//               is where the boot snapshot is taken
//     3 exit    u8 kind (0 exited, 1 killed by signal), u32 value (status or signal number);
//               sent after all container output has been written to the stdout/stderr ports
//     4 log     str text (only with the debug flag): what init is doing
//   host -> init
//     2 run     bool args_set, list<str> args, bool entrypoint_set, list<str> entrypoint,
//               list<str> env (KEY=VALUE), list<mount> mounts, bool stdin_open, bool terminal,
//               u16 rows, u16 cols, i64 time_sec, u32 time_nsec, bool debug
//               mount = str tag, str path, bool read_only
//     5 resize  u16 rows, u16 cols (terminal window changed)
//     6 signal  u32 signal number, delivered to the container process
//   file /c2w/config in the initramfs (written by rootfs, read by init)
//     7 config  list<str> entrypoint, list<str> cmd, list<str> env, str working_dir, str user,
//               list<xattr> xattrs; xattr = str path (absolute in the container), str name,
//               str value (bytes). newc cpio cannot carry xattrs, so init applies them at boot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace c2w::guest_protocol {

inline constexpr uint8_t kVersion = 1;
inline constexpr uint32_t kMaxPayload = 1u << 20;

inline constexpr std::string_view kControlPort = "c2w.control";
inline constexpr std::string_view kStdinPort = "c2w.stdin";
inline constexpr std::string_view kStdoutPort = "c2w.stdout";
inline constexpr std::string_view kStderrPort = "c2w.stderr";

enum class MessageType : uint8_t {
  kReady = 1,
  kRun = 2,
  kExit = 3,
  kLog = 4,
  kResize = 5,
  kSignal = 6,
  kConfig = 7,
};

struct Ready {
  bool operator==(const Ready&) const = default;
};

struct Mount {
  std::string tag;   // virtio-9p mount_tag
  std::string path;  // absolute path inside the container
  bool read_only = false;
  bool operator==(const Mount&) const = default;
};

struct RunRequest {
  bool args_set = false;  // args replace the image's Cmd
  std::vector<std::string> args;
  bool entrypoint_set = false;  // entrypoint replaces the image's Entrypoint (and drops Cmd)
  std::vector<std::string> entrypoint;
  std::vector<std::string> env;  // KEY=VALUE, overriding or extending the image's Env
  std::vector<Mount> mounts;
  bool stdin_open = false;  // connect c2w.stdin; otherwise stdin is /dev/null
  bool terminal = false;
  uint16_t rows = 0;
  uint16_t cols = 0;
  int64_t time_sec = 0;  // host wall clock, set as the guest's CLOCK_REALTIME
  uint32_t time_nsec = 0;
  bool debug = false;
  bool operator==(const RunRequest&) const = default;
};

struct Exit {
  enum class Kind : uint8_t { kExited = 0, kSignaled = 1 };
  Kind kind = Kind::kExited;
  uint32_t value = 0;
  // What the module exits with: the status, or 128 + signal as shells report it.
  int host_status() const {
    return kind == Kind::kExited ? static_cast<int>(value & 0xff) : 128 + static_cast<int>(value);
  }
  bool operator==(const Exit&) const = default;
};

struct Log {
  std::string text;
  bool operator==(const Log&) const = default;
};

struct Resize {
  uint16_t rows = 0;
  uint16_t cols = 0;
  bool operator==(const Resize&) const = default;
};

struct Signal {
  uint32_t number = 0;
  bool operator==(const Signal&) const = default;
};

struct Xattr {
  std::string path;
  std::string name;
  std::string value;
  bool operator==(const Xattr&) const = default;
};

// The image config after the recipe's ROOTFS overrides, ready for init.
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string working_dir;
  std::string user;
  std::vector<Xattr> xattrs;
  bool operator==(const ImageConfig&) const = default;
};

using Message = std::variant<Ready, RunRequest, Exit, Log, Resize, Signal, ImageConfig>;

// The whole frame: length prefix and payload. Fields too large for the format (a string over
// kMaxPayload) make the frame exceed kMaxPayload; decode then rejects it, so check
// encoded.size() - 4 <= kMaxPayload when sending data of unknown size.
std::string encode(const Message& message);

enum class DecodeStatus { kOk, kNeedMore, kError };

struct Decoded {
  DecodeStatus status = DecodeStatus::kNeedMore;
  size_t consumed = 0;  // bytes of the frame when kOk
  Message message;
  std::string error;  // when kError
};

// Decodes the frame at the front of `bytes`. kNeedMore: the frame is not complete yet.
// kError: the stream is unusable (the length prefix or the payload is bad).
Decoded decode_frame(std::string_view bytes);

// Accumulates bytes from a stream and hands out whole messages.
class FrameReader {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // kOk with the next message, kNeedMore when none is complete, kError (sticky) on bad input.
  Decoded next();
  size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
  std::string error_;
};

// Docker's process env rule: an entry of `add` replaces the entry of `env` with the same KEY
// (the text before the first '=', or all of it) in place; others are appended in order. A
// plain append would not override: getenv() returns the first match.
void merge_env(std::vector<std::string>& env, const std::vector<std::string>& add);

}  // namespace c2w::guest_protocol
