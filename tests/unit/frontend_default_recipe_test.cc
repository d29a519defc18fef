// The embedded default recipe: it is the file in the tree, it builds the full pipeline when
// IMAGE is given, and it fails clearly when it is not.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "frontend_support.h"
#include "graph/digest.h"

namespace c2w::frontend {
namespace {

using c2w::v1::Op;

uint32_t line_of(std::string_view text, std::string_view needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos);
  return 1 + static_cast<uint32_t>(std::count(text.begin(), text.begin() + at, '\n'));
}

std::map<std::string, Op> ops_of(const c2w::v1::Definition& def) {
  std::map<std::string, Op> ops;
  for (const std::string& bytes : def.ops()) ops[c2w::xxh3_digest(bytes)].ParseFromString(bytes);
  return ops;
}

TEST(FrontendDefaultRecipe, IsTheFileInTheTree) {
  std::ifstream in(std::string(C2W_SOURCE_DIR) + "/frontend/default.recipe");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(default_recipe(), text.str());
}

TEST(FrontendDefaultRecipe, BuildsThePipelineWithImageSet) {
  context::MemoryLoader loader{{"kernel/riscv64.config", "CONFIG_INIT_ON_FREE_DEFAULT_ON=y\n"}};
  BuildOptions options;
  options.build_args = {{"IMAGE", "busybox:1.36"}};
  BuildResult r = build_recipe(default_recipe(), std::string(kDefaultRecipeName), loader, options);
  EXPECT_TRUE(r.warnings.empty());
  auto ops = ops_of(r.definition);
  ASSERT_EQ(ops.size(), 7u) << describe(r.definition);

  const Op& pack = ops.at(r.definition.result().digest());
  EXPECT_EQ(pack.pack().target(), c2w::v1::PackOp::TARGET_WASI);
  const Op& boot = ops.at(pack.inputs(0).digest());
  EXPECT_EQ(boot.boot().memory_bytes(), 256ull << 20);
  const Op& kernel = ops.at(boot.inputs(0).digest());
  EXPECT_EQ(kernel.kernel().arch(), "riscv64");
  EXPECT_EQ(kernel.kernel().config_fragment(), "CONFIG_INIT_ON_FREE_DEFAULT_ON=y\n");
  EXPECT_EQ(ops.at(kernel.inputs(0).digest()).source().debian().name(), "linux-source-6.1");
  const Op& rootfs = ops.at(boot.inputs(1).digest());
  EXPECT_EQ(rootfs.rootfs().env_size(), 0);
  EXPECT_FALSE(rootfs.rootfs().entrypoint_set());
  const Op& fetch = ops.at(rootfs.inputs(1).digest());
  EXPECT_EQ(fetch.fetch().ref(), "docker.io/library/busybox:1.36");
  EXPECT_EQ(fetch.fetch().platform(), "linux/riscv64");
  const auto& meta = r.definition.metadata().at(r.definition.result().digest());
  EXPECT_EQ(meta.stage(), "wasm");
  EXPECT_EQ(meta.location().file(), "default.recipe");
  EXPECT_EQ(meta.location().line(), line_of(default_recipe(), "PACK boot"));
}

TEST(FrontendDefaultRecipe, FailsClearlyWithoutImage) {
  context::MemoryLoader loader{{"kernel/riscv64.config", "y"}};
  try {
    build_recipe(default_recipe(), std::string(kDefaultRecipeName), loader, {});
    FAIL() << "no error";
  } catch (const RecipeError& e) {
    EXPECT_EQ(e.line(), line_of(default_recipe(), "FROM ${IMAGE}"));
    EXPECT_EQ(e.column(), 6u);
    EXPECT_EQ(e.message(), "ARG IMAGE has no value");
    EXPECT_NE(e.hint().find("--build-arg IMAGE=..."), std::string::npos);
    EXPECT_EQ(std::string(e.what()).rfind("default.recipe:", 0), 0u);
  }
}

TEST(FrontendDefaultRecipe, ArgsReachPlatformKernelAndMemory) {
  context::MemoryLoader loader{{"kernel/riscv64.config", "y"}, {"kernel/x86_64.config", "x"}};
  BuildOptions options;
  options.build_args = {{"IMAGE", "alpine"}, {"TARGET_ARCH", "x86_64"}, {"MEMORY", "1G"}};
  BuildResult r = build_recipe(default_recipe(), "default.recipe", loader, options);
  bool saw_fetch = false, saw_kernel = false, saw_boot = false;
  for (const auto& [d, op] : ops_of(r.definition)) {
    if (op.has_fetch()) saw_fetch = op.fetch().platform() == "linux/x86_64";
    if (op.has_kernel()) {
      saw_kernel = op.kernel().arch() == "x86_64" && op.kernel().config_fragment() == "x";
    }
    if (op.has_boot()) saw_boot = op.boot().memory_bytes() == 1ull << 30;
  }
  EXPECT_TRUE(saw_fetch && saw_kernel && saw_boot) << describe(r.definition);
}

TEST(FrontendDefaultRecipe, MissingFragmentNamesTheFile) {
  BuildOptions options;
  options.build_args = {{"IMAGE", "busybox"}};
  RecipeError e = testing::build_error(default_recipe(), options, context::MemoryLoader{});
  EXPECT_EQ(e.message(),
            "cannot read CONFIG file \"kernel/riscv64.config\": \"kernel/riscv64.config\" does "
            "not exist");
  EXPECT_EQ(e.line(), line_of(default_recipe(), "CONFIG kernel/"));
}

}  // namespace
}  // namespace c2w::frontend
