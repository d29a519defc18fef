// The init control protocol (guest_protocol/protocol.h): every message round-trips, the wire
// bytes are the documented ones, and truncated, oversized or hostile input is rejected without
// large allocations or crashes.
#include <gtest/gtest.h>

#include <random>

#include "guest_protocol/protocol.h"

namespace {

using namespace c2w::guest_protocol;

RunRequest full_request() {
  RunRequest r;
  r.args_set = true;
  r.args = {"sh", "-c", "echo $A; exit 7", ""};
  r.entrypoint_set = true;
  r.entrypoint = {};
  r.env = {"A=x", "EMPTY="};
  r.mounts = {{"share0", "/mnt", false}, {"share1", "/ro", true}};
  r.stdin_open = true;
  r.terminal = true;
  r.rows = 24;
  r.cols = 80;
  r.time_sec = -5;  // before 1970 is odd but representable
  r.time_nsec = 999999999;
  r.debug = true;
  return r;
}

ImageConfig full_config() {
  ImageConfig c;
  c.entrypoint = {"/usr/bin/hello"};
  c.cmd = {"--greet", "world"};
  c.env = {"PATH=/bin", "HELLO_ENV=from-image"};
  c.working_dir = "/work";
  c.user = "hello";
  c.xattrs = {{"/usr/bin/ping", "security.capability", std::string("\x01\x00\x00\x02", 4)}};
  return c;
}

std::vector<Message> all_messages() {
  return {Ready{},
          full_request(),
          RunRequest{},
          Exit{Exit::Kind::kExited, 7},
          Exit{Exit::Kind::kSignaled, 9},
          Log{"mounting /proc"},
          Resize{50, 132},
          Signal{15},
          full_config(),
          ImageConfig{}};
}

TEST(GuestProtocol, EveryMessageRoundTrips) {
  for (const Message& m : all_messages()) {
    std::string wire = encode(m);
    Decoded d = decode_frame(wire);
    ASSERT_EQ(d.status, DecodeStatus::kOk) << d.error;
    EXPECT_EQ(d.consumed, wire.size());
    EXPECT_EQ(d.message, m) << "message index " << m.index();
  }
}

TEST(GuestProtocol, WireBytesAreTheDocumentedOnes) {
  EXPECT_EQ(encode(Ready{}), std::string("\x02\x00\x00\x00\x01\x01", 6));
  EXPECT_EQ(encode(Exit{Exit::Kind::kSignaled, 9}),
            std::string("\x07\x00\x00\x00\x01\x03\x01\x09\x00\x00\x00", 11));
  EXPECT_EQ(encode(Resize{0x1234, 80}),
            std::string("\x06\x00\x00\x00\x01\x05\x34\x12\x50\x00", 10));
  EXPECT_EQ(encode(Log{"hi"}), std::string("\x08\x00\x00\x00\x01\x04\x02\x00\x00\x00hi", 12));
}

TEST(GuestProtocol, ExitStatusForTheHost) {
  EXPECT_EQ((Exit{Exit::Kind::kExited, 7}).host_status(), 7);
  EXPECT_EQ((Exit{Exit::Kind::kSignaled, 9}).host_status(), 137);
}

TEST(GuestProtocol, EveryTruncationNeedsMoreOrFails) {
  for (const Message& m : all_messages()) {
    std::string wire = encode(m);
    for (size_t n = 0; n < wire.size(); ++n) {
      // A prefix of the frame is incomplete: never a message.
      EXPECT_EQ(decode_frame(std::string_view(wire).substr(0, n)).status, DecodeStatus::kNeedMore);
      // A payload cut short but declared complete is an error, not a crash or a message.
      if (n >= 6) {
        std::string cut = wire.substr(0, n);
        uint32_t len = static_cast<uint32_t>(n - 4);
        for (int i = 0; i < 4; ++i) cut[i] = static_cast<char>(len >> (8 * i));
        EXPECT_EQ(decode_frame(cut).status, DecodeStatus::kError) << "cut at " << n;
      }
    }
  }
}

TEST(GuestProtocol, HostileInputIsRejected) {
  auto status = [](std::string bytes) { return decode_frame(bytes).status; };
  // Over the size limit, announced before any payload arrives.
  EXPECT_EQ(status(std::string("\xff\xff\xff\xff", 4)), DecodeStatus::kError);
  EXPECT_EQ(status(std::string("\x01\x00\x00\x00\x01", 5)), DecodeStatus::kError);      // no type
  EXPECT_EQ(status(std::string("\x02\x00\x00\x00\x02\x01", 6)), DecodeStatus::kError);  // version
  EXPECT_EQ(status(std::string("\x02\x00\x00\x00\x01\x63", 6)), DecodeStatus::kError);  // type
  EXPECT_EQ(status(std::string("\x03\x00\x00\x00\x01\x01\x00", 7)), DecodeStatus::kError);  // trail
  // A bool that is neither 0 nor 1.
  std::string bad_bool = encode(RunRequest{});
  bad_bool[6] = 2;
  EXPECT_EQ(status(bad_bool), DecodeStatus::kError);
  // A list claiming four billion strings in a tiny message: rejected before reserving.
  std::string many("\x0a\x00\x00\x00\x01\x02\x00\xff\xff\xff\xff\x00\x00\x00", 14);
  Decoded d = decode_frame(many);
  EXPECT_EQ(d.status, DecodeStatus::kError);
  EXPECT_NE(d.error.find("longer than the message"), std::string::npos) << d.error;
  // A string longer than the payload.
  EXPECT_EQ(status(std::string("\x07\x00\x00\x00\x01\x04\xff\x00\x00\x00x", 11)),
            DecodeStatus::kError);
  // Nanoseconds of a second or more, and an unknown exit kind.
  RunRequest late;
  late.time_nsec = 1000000000;
  EXPECT_EQ(status(encode(late)), DecodeStatus::kError);
  EXPECT_EQ(status(std::string("\x07\x00\x00\x00\x01\x03\x02\x00\x00\x00\x00", 11)),
            DecodeStatus::kError);
}

TEST(GuestProtocol, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  for (int round = 0; round < 20000; ++round) {
    std::string wire = encode(all_messages()[round % all_messages().size()]);
    // Flip a few bytes after the length prefix (a bad length is covered above).
    for (int k = 0; k < 3; ++k) {
      size_t at = 4 + rng() % (wire.size() - 4);
      wire[at] = static_cast<char>(rng());
    }
    Decoded d = decode_frame(wire);
    if (d.status == DecodeStatus::kOk) {
      EXPECT_EQ(d.consumed, wire.size());
    }
  }
}

TEST(GuestProtocol, FrameReaderSplitsAStream) {
  std::string stream;
  for (const Message& m : all_messages()) stream += encode(m);
  FrameReader reader;
  std::vector<Message> got;
  for (char c : stream) {  // one byte at a time, the worst case of a byte stream
    reader.feed(std::string_view(&c, 1));
    while (true) {
      Decoded d = reader.next();
      ASSERT_NE(d.status, DecodeStatus::kError) << d.error;
      if (d.status == DecodeStatus::kNeedMore) break;
      got.push_back(d.message);
    }
  }
  EXPECT_EQ(got, all_messages());
  EXPECT_EQ(reader.buffered(), 0u);

  FrameReader broken;
  broken.feed(std::string("\x02\x00\x00\x00\x07\x01", 6));
  EXPECT_EQ(broken.next().status, DecodeStatus::kError);
  broken.feed(encode(Ready{}));  // an error is sticky: the stream has lost its framing
  EXPECT_EQ(broken.next().status, DecodeStatus::kError);
}

TEST(GuestProtocol, MergeEnvOverridesByKey) {
  std::vector<std::string> env = {"PATH=/bin", "A=1", "B"};
  merge_env(env, {"A=2", "C=3", "B=now", "PATH=/usr/bin"});
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/usr/bin", "A=2", "B=now", "C=3"}));
}

}  // namespace
