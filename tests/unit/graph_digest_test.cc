// Op digests: XXH3-128 of the deterministic serialization, "xxh3:<32 hex>", equal for equal
// ops however they were built, different when any field changes, and stable across runs
// (golden values: a change here invalidates every cache, so it must be deliberate).
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "graph/digest.h"

namespace {

using c2w::graph::op_digest;
using c2w::v1::Op;

Op fetch(const std::string& ref, const std::string& platform) {
  Op op;
  op.mutable_fetch()->set_ref(ref);
  op.mutable_fetch()->set_platform(platform);
  return op;
}

TEST(GraphDigest, KnownXxh3Values) {
  // XXH3-128 of the empty input, from the xxHash reference (canonical: high half first).
  EXPECT_EQ(c2w::xxh3_digest(""), "xxh3:99aa06d3014798d86001c324468d497f");
}

TEST(GraphDigest, FormIsPrefixAnd32LowercaseHex) {
  std::string d = op_digest(fetch("docker.io/library/busybox:latest", "linux/riscv64"));
  EXPECT_TRUE(c2w::graph::is_digest(d)) << d;
  EXPECT_EQ(d.size(), 5u + 32u);
  EXPECT_FALSE(c2w::graph::is_digest("xxh3:ABCDEF0123456789abcdef0123456789"));
  EXPECT_FALSE(c2w::graph::is_digest("sha256:99aa06d3014798d86001c324468d497f"));
  EXPECT_FALSE(c2w::graph::is_digest("xxh3:99aa06d3014798d86001c324468d497"));
}

TEST(GraphDigest, StableAcrossRuns) {
  // Golden value: pins the serialization and the hash. Changing it invalidates caches.
  EXPECT_EQ(op_digest(fetch("docker.io/library/busybox:latest", "linux/riscv64")),
            "xxh3:bba97f8b6cd7593776ebdd3ed6eeb5fe");
}

TEST(GraphDigest, EqualOpsEqualDigestsRegardlessOfConstructionOrder) {
  Op a;
  a.add_inputs()->set_digest("xxh3:00000000000000000000000000000001");
  a.mutable_boot()->set_append("quiet");
  a.mutable_boot()->set_memory_bytes(256u << 20);
  Op b;
  b.mutable_boot()->set_memory_bytes(256u << 20);
  b.mutable_boot()->set_append("quiet");
  b.add_inputs()->set_digest("xxh3:00000000000000000000000000000001");
  EXPECT_EQ(op_digest(a), op_digest(b));
  EXPECT_EQ(c2w::graph::deterministic_bytes(a), c2w::graph::deterministic_bytes(b));
}

TEST(GraphDigest, EveryFieldChangeChangesTheDigest) {
  Op base;
  base.add_inputs()->set_digest("xxh3:00000000000000000000000000000001");
  auto* r = base.mutable_rootfs();
  r->add_env("A=1");
  r->add_entrypoint("/bin/sh");
  r->add_cmd("-c");
  r->set_entrypoint_set(true);
  r->set_cmd_set(true);
  auto* c = r->add_copies();
  c->set_src("a");
  c->set_dst("/a");
  c->set_input(1);

  std::vector<std::function<void(Op&)>> changes = {
      [](Op& o) { o.mutable_inputs(0)->set_digest("xxh3:00000000000000000000000000000002"); },
      [](Op& o) { o.mutable_inputs(0)->set_output(1); },
      [](Op& o) { o.add_inputs()->set_digest("xxh3:00000000000000000000000000000003"); },
      [](Op& o) { o.mutable_rootfs()->set_env(0, "A=2"); },
      [](Op& o) { o.mutable_rootfs()->add_env("B=1"); },
      [](Op& o) { o.mutable_rootfs()->set_entrypoint(0, "/bin/bash"); },
      [](Op& o) { o.mutable_rootfs()->set_cmd(0, "-x"); },
      [](Op& o) { o.mutable_rootfs()->set_entrypoint_set(false); },
      [](Op& o) { o.mutable_rootfs()->set_cmd_set(false); },
      [](Op& o) { o.mutable_rootfs()->mutable_copies(0)->set_src("b"); },
      [](Op& o) { o.mutable_rootfs()->mutable_copies(0)->set_dst("/b"); },
      [](Op& o) { o.mutable_rootfs()->mutable_copies(0)->set_input(2); },
      // Same field values under another op kind must not collide either.
      [](Op& o) { o.mutable_unpack(); },
  };
  std::set<std::string> seen = {op_digest(base)};
  for (size_t i = 0; i < changes.size(); ++i) {
    Op changed = base;
    changes[i](changed);
    EXPECT_TRUE(seen.insert(op_digest(changed)).second) << "change " << i << " collided";
  }

  // Kinds with scalar parameters: each parameter is in the key.
  EXPECT_NE(op_digest(fetch("docker.io/library/busybox:latest", "linux/riscv64")),
            op_digest(fetch("docker.io/library/busybox:latest", "linux/amd64")));
  Op k1, k2;
  k1.mutable_kernel()->set_config_fragment("CONFIG_A=y\n");
  k2.mutable_kernel()->set_config_fragment("CONFIG_A=n\n");
  EXPECT_NE(op_digest(k1), op_digest(k2));
  Op p1, p2;
  p1.mutable_pack()->set_target(c2w::v1::PackOp::TARGET_WASI);
  p2.mutable_pack()->set_target(c2w::v1::PackOp::TARGET_BROWSER);
  EXPECT_NE(op_digest(p1), op_digest(p2));
  Op s1, s2;
  s1.mutable_source()->mutable_http()->set_sha256(std::string(64, 'a'));
  s2.mutable_source()->mutable_http()->set_sha256(std::string(64, 'b'));
  EXPECT_NE(op_digest(s1), op_digest(s2));
}

TEST(GraphDigest, StreamingHasherMatchesOneShot) {
  c2w::Xxh3Hasher h;
  h.update("conta");
  h.update("");
  h.update("iner2wasm");
  EXPECT_EQ(h.finish(), c2w::xxh3_digest("container2wasm"));
  c2w::Xxh3Hasher empty;
  EXPECT_EQ(empty.finish(), c2w::xxh3_digest(""));
}

}  // namespace
