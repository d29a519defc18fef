// The converted module's command line (runtime/run_args.h): c2w's flags, then the
// container's command.
#include <gtest/gtest.h>

#include "runtime/run_args.h"

namespace {

using c2w::runtime::parse_run_args;
using c2w::runtime::RunArgs;

RunArgs parse_ok(const std::vector<std::string>& args) {
  RunArgs out;
  std::string error;
  EXPECT_TRUE(parse_run_args(args, &out, &error)) << error;
  return out;
}

TEST(RunArgs, NothingKeepsTheImageCommand) {
  const RunArgs a = parse_ok({});
  EXPECT_FALSE(a.request.args_set);
  EXPECT_FALSE(a.request.entrypoint_set);
  EXPECT_TRUE(a.request.stdin_open);
  EXPECT_TRUE(parse_ok({"--"}).request.args.empty());
  EXPECT_FALSE(parse_ok({"--"}).request.args_set);
}

TEST(RunArgs, CommandReplacesCmdAndKeepsItsOwnFlags) {
  const RunArgs a = parse_ok({"ls", "--help", "--no-stdin"});
  EXPECT_TRUE(a.request.args_set);
  EXPECT_EQ(a.request.args, (std::vector<std::string>{"ls", "--help", "--no-stdin"}));
  EXPECT_TRUE(a.request.stdin_open);
  const RunArgs b = parse_ok({"--no-stdin", "--", "--entrypoint=x"});
  EXPECT_FALSE(b.request.stdin_open);
  EXPECT_EQ(b.request.args, (std::vector<std::string>{"--entrypoint=x"}));
}

TEST(RunArgs, EntrypointBothSpellings) {
  const RunArgs a = parse_ok({"--entrypoint=echo", "hi"});
  EXPECT_TRUE(a.request.entrypoint_set);
  EXPECT_EQ(a.request.entrypoint, (std::vector<std::string>{"echo"}));
  EXPECT_EQ(a.request.args, (std::vector<std::string>{"hi"}));
  const RunArgs b = parse_ok({"--entrypoint", "/bin/sh", "--debug-init", "--", "-c", "x"});
  EXPECT_EQ(b.request.entrypoint, (std::vector<std::string>{"/bin/sh"}));
  EXPECT_TRUE(b.request.debug);
  EXPECT_EQ(b.request.args, (std::vector<std::string>{"-c", "x"}));
}

TEST(RunArgs, BadFlagsNameTheProblem) {
  RunArgs out;
  std::string error;
  EXPECT_FALSE(parse_run_args({"--entrypoint"}, &out, &error));
  EXPECT_NE(error.find("--entrypoint needs a command"), std::string::npos);
  EXPECT_FALSE(parse_run_args({"--entrypoint="}, &out, &error));
}

TEST(RunArgs, OtherFlagsGoToTheEntrypoint) {
  const RunArgs a = parse_ok({"--no-stdin", "--verbose", "--no-stdin"});
  EXPECT_FALSE(a.request.stdin_open);
  EXPECT_EQ(a.request.args, (std::vector<std::string>{"--verbose", "--no-stdin"}));
}

}  // namespace
