// Encodes and decodes the same init-protocol messages on whichever target it is built for and
// prints each frame in hex: the wasm32 build (the runtime's side) must print exactly what the
// native build prints, so both sides agree on every byte.
#include <cstdio>

#include "guest_protocol/protocol.h"

int main() {
  using namespace c2w::guest_protocol;
  RunRequest run;
  run.args_set = true;
  run.args = {"sh", "-c", "echo $A"};
  run.entrypoint_set = true;
  run.env = {"A=x"};
  run.mounts = {{"share0", "/mnt", true}};
  run.stdin_open = true;
  run.terminal = true;
  run.rows = 24;
  run.cols = 80;
  run.time_sec = 2000000000;
  run.time_nsec = 123456789;
  run.debug = true;
  ImageConfig config;
  config.cmd = {"sh"};
  config.xattrs = {{"/bin/ping", "security.capability", std::string("\x01\x00\xff", 3)}};
  const Message messages[] = {
      Ready{}, run, Exit{Exit::Kind::kSignaled, 9}, Log{"hi"}, Resize{1, 2}, Signal{15}, config};
  int failures = 0;
  for (const Message& m : messages) {
    std::string frame = encode(m);
    for (unsigned char c : frame) std::printf("%02x", c);
    Decoded d = decode_frame(frame);
    bool ok = d.status == DecodeStatus::kOk && d.consumed == frame.size() && d.message == m;
    std::printf(" %s\n", ok ? "roundtrip" : "MISMATCH");
    failures += ok ? 0 : 1;
  }
  return failures;
}
