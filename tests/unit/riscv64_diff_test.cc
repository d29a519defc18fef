// Differential test of the riscv64 core against qemu-riscv64-static: the guest program rv64_diff
// runs a table of ALU, M, F and D operations on tricky and random operands under qemu; the same
// instruction sequences run on our core here and every result, FP register and fflags value
// must match.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/riscv64/diff_support.h"

namespace {

std::vector<std::string> qemu_reference() {
  const std::string cmd =
      std::string("qemu-riscv64-static ") + C2W_GUEST_DIR + "/tests/riscv64/rv64_diff";
  std::vector<std::string> lines;
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) return lines;
  char buf[128];
  while (std::fgets(buf, sizeof buf, p)) {
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    lines.push_back(s);
  }
  EXPECT_EQ(pclose(p), 0) << cmd;
  return lines;
}

TEST(Riscv64Diff, MatchesQemuOnAluMulFpTable) {
  const std::vector<rvdiff::Case> cases = rvdiff::make_cases();
  const std::vector<std::string> want = qemu_reference();
  ASSERT_EQ(want.size(), cases.size()) << "rv64_diff under qemu printed the wrong number of lines";
  rvdiff::CoreRunner runner;
  int bad = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string got = runner.run(cases[i]);
    if (got != want[i]) {
      ++bad;
      if (bad <= 40) {
        c2w::riscv64::Insn d = c2w::riscv64::decode(cases[i].insn);
        ADD_FAILURE() << "case " << i << " " << c2w::riscv64::op_name(d.op) << " rm=" << int(d.rm)
                      << " frm=" << int(cases[i].frm) << std::hex << " in=" << cases[i].in[0] << ","
                      << cases[i].in[1] << "," << cases[i].in[2] << "\n  core: " << got
                      << "\n  qemu: " << want[i];
      }
    }
  }
  EXPECT_EQ(bad, 0) << "of " << cases.size() << " cases";
}

}  // namespace
