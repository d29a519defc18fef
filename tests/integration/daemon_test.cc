// c2wd against the real client: the same bytes as in process over a unix socket and over
// TCP + TLS + token; refusals for a missing or wrong token and an untrusted certificate;
// 8 clients at once; a daemon killed mid-solve and restarted; garbage over the wire.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "c2w/v1/control.grpc.pb.h"
#include "tests/support/c2wd.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/tree_compare.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::BackgroundProcess;
using c2w::testing::CommandResult;
using c2w::testing::TempDir;

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

// A c2wd on the fixtures' c2w cache (the kernel is in it; these tests add nothing to it).
struct Daemon : c2w::testing::C2wd {
  explicit Daemon(std::vector<std::string> extra = {}, std::string addr = "")
      : C2wd(c2w::testing::fixture("c2w-cache"), std::move(extra), std::move(addr)) {}
};

// The client's own cache (where results land) sits beside `dest`, not in the user's.
CommandResult build_kernel(const std::string& builder, const fs::path& dest,
                           std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {
      C2W_BINARY_PATH,
      "--builder",
      builder,
      "--cache-dir",
      (dest.parent_path() / (dest.filename().string() + "-cache")).string(),
      "--progress=plain",
      "--target",
      "kernel",
      "--output",
      "type=local,dest=" + dest.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return c2w::testing::run_command(argv);
}

TEST(Daemon, UnixSocketGivesTheSameBytesAsInProcess) {
  Daemon d;
  TempDir out;
  CommandResult r = build_kernel(d.address, out.path() / "k");
  ASSERT_EQ(r.exit_code, 0) << r.output << c2w::testing::slurp(d.dir.path() / "log");
  EXPECT_TRUE(contains(r.output, "CACHED")) << r.output;
  EXPECT_EQ(c2w::testing::slurp(out.path() / "k" / "Image"), c2w::testing::slurp(C2W_KERNEL_IMAGE));
}

TEST(Daemon, TcpWithTlsAndToken) {
  TempDir certs;
  c2w::testing::make_self_signed_certificate(certs.path());
  std::string addr = "tcp://127.0.0.1:" + std::to_string(c2w::testing::free_loopback_port());
  Daemon d({"--tls-cert", (certs.path() / "server.crt").string(), "--tls-key",
            (certs.path() / "server.key").string(), "--token", "s3cret"},
           addr);
  TempDir out;
  std::string ca = (certs.path() / "server.crt").string();
  CommandResult ok =
      build_kernel(addr, out.path() / "k", {"--builder-ca", ca, "--builder-token", "s3cret"});
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(c2w::testing::slurp(out.path() / "k" / "Image"), c2w::testing::slurp(C2W_KERNEL_IMAGE));

  CommandResult no_token = build_kernel(addr, out.path() / "k2", {"--builder-ca", ca});
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_TRUE(contains(no_token.output, "needs a token")) << no_token.output;
  CommandResult wrong =
      build_kernel(addr, out.path() / "k3", {"--builder-ca", ca, "--builder-token", "nope"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(contains(wrong.output, "refused the token")) << wrong.output;
  CommandResult untrusted = build_kernel(addr, out.path() / "k4", {"--builder-token", "s3cret"});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_TRUE(contains(untrusted.output, "lost the builder")) << untrusted.output;
  EXPECT_FALSE(fs::exists(out.path() / "k4" / "Image"));
}

TEST(Daemon, EightClientsAtOnce) {
  Daemon d;
  TempDir out;
  std::vector<std::thread> clients;
  std::vector<CommandResult> results(8);
  for (int i = 0; i < 8; ++i)
    clients.emplace_back(
        [&, i] { results[size_t(i)] = build_kernel(d.address, out.path() / std::to_string(i)); });
  for (auto& c : clients) c.join();
  std::string want = c2w::testing::slurp(C2W_KERNEL_IMAGE);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(results[size_t(i)].exit_code, 0) << results[size_t(i)].output;
    EXPECT_EQ(c2w::testing::slurp(out.path() / std::to_string(i) / "Image"), want);
  }
}

TEST(Daemon, KilledMidSolveThenRestarted) {
  TempDir out;
  std::string address;
  {
    Daemon d;
    address = d.address;
    BackgroundProcess client(
        {C2W_BINARY_PATH, "--builder", d.address, "--cache-dir", (out.path() / "cache").string(),
         "--progress=plain", "--no-cache", "--target", "kernel", "--output",
         "type=local,dest=" + (out.path() / "k").string()},
        out.path() / "client.log");
    for (int i = 0; i < 200 && !contains(c2w::testing::slurp(out.path() / "client.log"), "#2 ");
         ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(d.proc.pid(), SIGKILL);
    EXPECT_EQ(client.wait(), 1);
    std::string log = c2w::testing::slurp(out.path() / "client.log");
    EXPECT_TRUE(contains(log, "lost the builder")) << log;
  }
  Daemon again;
  CommandResult r = build_kernel(again.address, out.path() / "k2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(c2w::testing::slurp(out.path() / "k2" / "Image"),
            c2w::testing::slurp(C2W_KERNEL_IMAGE));
}

TEST(Daemon, GarbageOverTheWireIsRefused) {
  Daemon d;
  auto stub =
      c2w::v1::Control::NewStub(grpc::CreateChannel(d.address, grpc::InsecureChannelCredentials()));
  c2w::v1::SolveRequest req;
  req.mutable_definition()->add_ops(std::string("\xff\xff\xff garbage", 12));
  req.mutable_definition()->mutable_result()->set_digest("xxh3:00000000000000000000000000000000");
  grpc::ClientContext ctx;
  auto reader = stub->Solve(&ctx, req);
  c2w::v1::SolveResponse resp;
  while (reader->Read(&resp)) {
  }
  grpc::Status st = reader->Finish();
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.error_message(), "cannot be parsed") ||
              contains(st.error_message(), "no result op"))
      << st.error_message();

  grpc::ClientContext rctx;
  c2w::v1::ReadResultRequest rr;
  rr.set_digest("../../etc/passwd");
  auto chunks = stub->ReadResult(&rctx, rr);
  c2w::v1::Chunk chunk;
  EXPECT_FALSE(chunks->Read(&chunk));
  EXPECT_EQ(chunks->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  grpc::ClientContext ictx;
  c2w::v1::InfoResponse info;
  ASSERT_TRUE(stub->Info(&ictx, {}, &info).ok()) << "the daemon survives";
  EXPECT_EQ(info.emulator_cores(0), "riscv64");
}

}  // namespace
