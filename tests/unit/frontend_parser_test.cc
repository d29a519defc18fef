// Parser: every instruction and form, keywords case-insensitive, ROOTFS blocks, exec form.
#include <gtest/gtest.h>

#include "frontend/recipe.h"

namespace c2w::frontend {
namespace {

TEST(FrontendParser, AllInstructions) {
  Recipe r = parse_recipe(R"(ARG IMAGE
ARG MEM=512M
from ${IMAGE} platform linux/riscv64 as Image
KERNEL debian:linux-source-6.1 ARCH riscv64 CONFIG kernel/riscv64.config AS kernel
ROOTFS image AS rootfs
BOOT kernel rootfs MEMORY ${MEM} APPEND "quiet loglevel=3" AS boot
Pack boot Target wasi As wasm
)",
                          "recipe");
  ASSERT_EQ(r.args.size(), 2u);
  EXPECT_EQ(r.args[0].name, "IMAGE");
  EXPECT_FALSE(r.args[0].default_value);
  EXPECT_EQ(r.args[1].default_value->text, "512M");
  ASSERT_EQ(r.stages.size(), 5u);

  const Stage& image = r.stages[0];
  EXPECT_EQ(image.name, "image");  // lowercased
  EXPECT_EQ(image.kind, StageKind::kImage);
  EXPECT_EQ(image.pos, (SourcePos{3, 1}));
  EXPECT_EQ(image.name_pos, (SourcePos{3, 41}));
  EXPECT_EQ(image.args_in_scope, 2u);
  const auto& from = std::get<FromBody>(image.body);
  EXPECT_EQ(from.ref.text, "${IMAGE}");  // substitution is the builder's job
  EXPECT_EQ(from.platform->text, "linux/riscv64");

  const auto& kernel = std::get<KernelBody>(r.stages[1].body);
  EXPECT_EQ(kernel.source.text, "debian:linux-source-6.1");
  EXPECT_EQ(kernel.config.text, "kernel/riscv64.config");
  EXPECT_EQ(kernel.arch->text, "riscv64");
  EXPECT_FALSE(kernel.sha256);

  const auto& rootfs = std::get<RootfsBody>(r.stages[2].body);
  EXPECT_EQ(rootfs.image.index, 0u);

  const auto& boot = std::get<BootBody>(r.stages[3].body);
  EXPECT_EQ(boot.kernel.index, 1u);
  EXPECT_EQ(boot.rootfs.index, 2u);
  EXPECT_EQ(boot.append->text, "quiet loglevel=3");

  const auto& pack = std::get<PackBody>(r.stages[4].body);
  EXPECT_EQ(pack.boot.index, 3u);
  EXPECT_EQ(pack.target.text, "wasi");
  EXPECT_EQ(r.stages[4].name, "wasm");
}

TEST(FrontendParser, OptionsInAnyOrderBeforeAs) {
  Recipe r = parse_recipe(
      "KERNEL https://example.org/linux.tar.xz CONFIG k.config SHA256 abc ARCH riscv64 AS k\n",
      "recipe");
  const auto& k = std::get<KernelBody>(r.stages[0].body);
  EXPECT_EQ(k.sha256->text, "abc");
  EXPECT_EQ(k.config.text, "k.config");
}

TEST(FrontendParser, QuotedKeywordIsAnArgument) {
  // A quoted "AS" is a value, so the FROM still needs its own AS.
  Recipe r = parse_recipe("FROM \"as\" AS x\n", "recipe");
  EXPECT_EQ(std::get<FromBody>(r.stages[0].body).ref.text, "as");
}

TEST(FrontendParser, RootfsBlock) {
  Recipe r = parse_recipe(R"(FROM busybox AS image
ROOTFS image AS rootfs
  COPY app/config.toml /etc/app/config.toml
  copy "my file" /srv/my\ file
  ENV A=1 B="two words"
  ENV EMPTY=
  ENTRYPOINT ["/bin/app", "--flag=\"q\"", "\u00e9"]
  CMD echo $HOME  
FROM alpine AS other
)",
                          "recipe");
  const auto& b = std::get<RootfsBody>(r.stages[1].body);
  ASSERT_EQ(b.copies.size(), 2u);
  EXPECT_EQ(b.copies[0].src.text, "app/config.toml");
  EXPECT_EQ(b.copies[0].dst.text, "/etc/app/config.toml");
  EXPECT_EQ(b.copies[0].pos, (SourcePos{3, 3}));
  EXPECT_EQ(b.copies[1].src.text, "my file");
  EXPECT_EQ(b.copies[1].dst.text, "/srv/my file");
  ASSERT_EQ(b.env.size(), 3u);
  EXPECT_EQ(b.env[0].key, "A");
  EXPECT_EQ(b.env[1].value.text, "two words");
  EXPECT_EQ(b.env[1].value.start, (SourcePos{5, 14}));
  EXPECT_EQ(b.env[2].key, "EMPTY");
  EXPECT_EQ(b.env[2].value.text, "");
  ASSERT_TRUE(b.entrypoint);
  EXPECT_TRUE(b.entrypoint->exec_form);
  EXPECT_EQ(b.entrypoint->argv, (std::vector<std::string>{"/bin/app", "--flag=\"q\"", "\xc3\xa9"}));
  ASSERT_TRUE(b.cmd);
  EXPECT_FALSE(b.cmd->exec_form);
  EXPECT_EQ(b.cmd->argv, (std::vector<std::string>{"/bin/sh", "-c", "echo $HOME"}));
  EXPECT_EQ(r.stages.size(), 3u);
}

TEST(FrontendParser, ExecFormAcrossContinuationsAndEmpty) {
  Recipe r = parse_recipe(R"(FROM busybox AS image
ROOTFS image AS rootfs
  ENTRYPOINT [ "/bin/sh", \
               "-c" ]
  CMD []
)",
                          "recipe");
  const auto& b = std::get<RootfsBody>(r.stages[1].body);
  EXPECT_EQ(b.entrypoint->argv, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_TRUE(b.cmd->exec_form);
  EXPECT_TRUE(b.cmd->argv.empty());
}

TEST(FrontendParser, ArgsInScopeFollowDeclarationOrder) {
  Recipe r = parse_recipe("ARG A\nFROM a AS one\nARG B=2\nFROM b AS two\n", "recipe");
  EXPECT_EQ(r.stages[0].args_in_scope, 1u);
  EXPECT_EQ(r.stages[1].args_in_scope, 2u);
  EXPECT_EQ(r.find_stage("TWO"), 1u);
  EXPECT_EQ(r.stage_names(), (std::vector<std::string>{"one", "two"}));
}

}  // namespace
}  // namespace c2w::frontend
