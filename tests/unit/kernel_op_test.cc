// The kernel op's fragment check: options that did not reach the final .config (typos,
// unmet dependencies) are found; "=n" matches "is not set"; other options are ignored.
#include "ops/kernel/kernel_op.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace {

using c2w::kernel::unmet_options;

TEST(BuildKernel, FindsOptionsThatDidNotTakeEffect) {
  std::string fragment =
      "# comment\nCONFIG_A=y\nCONFIG_B=n\n# CONFIG_C is not set\nCONFIG_D=y\nCONFIG_E=\"x\"\n";
  std::string config =
      "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_E=\"x\"\nCONFIG_OTHER=y\n";
  auto unmet = unmet_options(fragment, config);
  ASSERT_EQ(unmet.size(), 2u);
  EXPECT_EQ(unmet[0], "CONFIG_C=n (got y)");
  EXPECT_EQ(unmet[1], "CONFIG_D=y (got n)");
  EXPECT_TRUE(unmet_options(fragment, "CONFIG_A=y\nCONFIG_D=y\nCONFIG_E=\"x\"\n").empty());
}

TEST(BuildKernel, KnowsItsToolchains) {
  EXPECT_EQ(c2w::kernel::toolchain_for("riscv64").cross_prefix, "riscv64-linux-gnu-");
  EXPECT_THROW(c2w::kernel::toolchain_for("mips"), c2w::Error);
}

}  // namespace
