// The generated protobuf and gRPC code: graph ops serialize deterministically (their bytes are
// what gets hashed) and the Control service answers over a real unix-socket channel.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "c2w/v1/control.grpc.pb.h"
#include "graph/digest.h"
#include "tests/support/process.h"

namespace {

TEST(Proto, EqualOpsSerializeToEqualBytes) {
  c2w::v1::Op a, b;
  a.mutable_fetch()->set_ref("docker.io/library/busybox:latest");
  a.mutable_fetch()->set_platform("linux/riscv64");
  b.mutable_fetch()->set_platform("linux/riscv64");
  b.mutable_fetch()->set_ref("docker.io/library/busybox:latest");
  EXPECT_EQ(c2w::graph::deterministic_bytes(a), c2w::graph::deterministic_bytes(b));
  b.mutable_fetch()->set_platform("linux/amd64");
  EXPECT_NE(c2w::graph::deterministic_bytes(a), c2w::graph::deterministic_bytes(b));

  c2w::v1::Op parsed;
  ASSERT_TRUE(parsed.ParseFromString(c2w::graph::deterministic_bytes(a)));
  EXPECT_EQ(parsed.fetch().ref(), "docker.io/library/busybox:latest");
  EXPECT_EQ(parsed.kind_case(), c2w::v1::Op::kFetch);
}

class InfoOnly final : public c2w::v1::Control::Service {
  grpc::Status Info(grpc::ServerContext*, const c2w::v1::InfoRequest*,
                    c2w::v1::InfoResponse* response) override {
    response->set_version("test");
    response->add_platforms("linux/riscv64");
    return grpc::Status::OK;
  }
};

TEST(Proto, ControlServiceAnswersOverUnixSocket) {
  c2w::testing::TempDir dir;
  std::string address = "unix://" + (dir.path() / "c2wd.sock").string();
  InfoOnly service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  auto stub =
      c2w::v1::Control::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  c2w::v1::InfoResponse info;
  grpc::Status status = stub->Info(&ctx, c2w::v1::InfoRequest{}, &info);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(info.version(), "test");
  ASSERT_EQ(info.platforms_size(), 1);

  // Methods the server does not implement are refused, not hung.
  grpc::ClientContext ctx2;
  c2w::v1::DiskUsageResponse usage;
  EXPECT_EQ(stub->DiskUsage(&ctx2, {}, &usage).error_code(), grpc::StatusCode::UNIMPLEMENTED);
  server->Shutdown();
}

}  // namespace
