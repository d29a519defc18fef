// The kernel op through c2w: the kernel the `kernel.build` fixture made is served from
// the cache on the next build (no rebuild), and a broken fragment fails clearly with the log.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/tree_compare.h"

namespace {

namespace fs = std::filesystem;
using c2w::testing::TempDir;

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

TEST(BuildKernel, SecondBuildHitsTheCache) {
  fs::path cache = c2w::testing::fixture("c2w-cache");
  TempDir out;
  auto r = c2w::testing::run_command({C2W_BINARY_PATH, "--cache-dir", cache.string(),
                                      "--progress=plain", "--target", "kernel", "--output",
                                      "type=local,dest=" + (out.path() / "k").string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "CACHED")) << r.output;
  EXPECT_FALSE(contains(r.output, "building the kernel")) << r.output;
  EXPECT_EQ(c2w::testing::slurp(out.path() / "k" / "Image"), c2w::testing::slurp(C2W_KERNEL_IMAGE));
  // A riscv64 Linux Image: "RISCV\0\0\0" magic at offset 48, "RSC\x05" at 56.
  std::string image = c2w::testing::slurp(C2W_KERNEL_IMAGE);
  ASSERT_GT(image.size(), 1000000u);
  EXPECT_EQ(image.substr(48, 5), "RISCV");
}

TEST(BuildKernel, BrokenFragmentFailsWithTheLog) {
  TempDir dir;
  std::ofstream(dir.path() / "broken.config") << "CONFIG_NO_SUCH_OPTION_C2W=y\nCONFIG_PRINTK=y\n";
  std::ofstream(dir.path() / "recipe")
      << "KERNEL debian:linux-source-6.1 CONFIG broken.config AS kernel\n";
  auto r = c2w::testing::run_command(
      {C2W_BINARY_PATH, "--cache-dir", (dir.path() / "cache").string(), "--progress=plain",
       "--recipe", (dir.path() / "recipe").string(), "--target", "kernel", "--output",
       "type=local,dest=" + (dir.path() / "k").string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "CONFIG_NO_SUCH_OPTION_C2W=y (got n)")) << r.output;
  EXPECT_TRUE(contains(r.output, "last lines of the config log")) << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "k"));
}

}  // namespace
