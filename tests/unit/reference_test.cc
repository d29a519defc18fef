// Image references normalise as Docker's do, local transports parse, and bad ones are refused
// with a message naming the problem.
#include "oci/reference.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace {

using c2w::oci::parse_reference;
using c2w::oci::Reference;

TEST(Reference, DockerHubShortNames) {
  Reference r = parse_reference("alpine");
  EXPECT_EQ(r.registry, "docker.io");
  EXPECT_EQ(r.repository, "library/alpine");
  EXPECT_EQ(r.tag, "latest");
  EXPECT_EQ(r.api_host(), "registry-1.docker.io");
  EXPECT_EQ(r.str(), "docker.io/library/alpine:latest");
  EXPECT_EQ(parse_reference("user/app:1.2").str(), "docker.io/user/app:1.2");
}

TEST(Reference, RegistriesPortsAndDigests) {
  Reference r = parse_reference("127.0.0.1:5000/team/busybox:v1");
  EXPECT_EQ(r.registry, "127.0.0.1:5000");
  EXPECT_EQ(r.repository, "team/busybox");
  EXPECT_EQ(r.tag, "v1");
  std::string d = "sha256:" + std::string(64, 'a');
  Reference pinned = parse_reference("localhost/x@" + d);
  EXPECT_EQ(pinned.registry, "localhost");
  EXPECT_EQ(pinned.digest, d);
  EXPECT_TRUE(pinned.tag.empty());
  Reference both = parse_reference("ghcr.io/o/r:t@" + d);
  EXPECT_EQ(both.tag, "t");
  EXPECT_EQ(both.digest, d);
  EXPECT_EQ(both.pull_scope(), "repository:o/r:pull");
}

TEST(Reference, LocalTransports) {
  Reference l = parse_reference("oci-layout:/tmp/lay:v2");
  EXPECT_EQ(l.kind, Reference::Kind::kOciLayout);
  EXPECT_EQ(l.path, "/tmp/lay");
  EXPECT_EQ(l.tag, "v2");
  Reference d = parse_reference("oci-layout:./dir.v1/sub");
  EXPECT_EQ(d.path, "./dir.v1/sub");
  EXPECT_EQ(d.tag, "latest");
  Reference a = parse_reference("docker-archive:/tmp/x:y.tar");
  EXPECT_EQ(a.kind, Reference::Kind::kDockerArchive);
  EXPECT_EQ(a.path, "/tmp/x:y.tar");
}

TEST(Reference, BadReferencesAreRefused) {
  for (const char* bad : {"", "UPPER/case", "x:bad tag", "x@sha256:short", "a//b", "oci-layout:"}) {
    try {
      parse_reference(bad);
      ADD_FAILURE() << "accepted \"" << bad << "\"";
    } catch (const c2w::Error& e) {
      EXPECT_NE(std::string(e.what()).find("invalid image reference"), std::string::npos)
          << e.what();
      EXPECT_FALSE(e.hint().empty());
    }
  }
}

}  // namespace
