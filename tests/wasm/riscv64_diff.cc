// The riscv64 core built for wasm32-wasi, held to the same qemu reference as the native build:
// reads the reference lines (argv[1], printed by rv64_diff under qemu-riscv64-static), runs
// every differential case on the core and exits with the number of mismatches (capped at 100).
// Also proves the core links for wasm32 without exceptions, RTTI or threads.
#include <cstdio>
#include <string>

#include "tests/riscv64/diff_support.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: riscv64_diff REFERENCE.txt\n");
    return 100;
  }
  std::FILE* in = std::fopen(argv[1], "r");
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 100;
  }
  const std::vector<rvdiff::Case> cases = rvdiff::make_cases();
  static rvdiff::CoreRunner runner;
  int bad = 0;
  size_t n = 0;
  char line[128];
  for (; n < cases.size() && std::fgets(line, sizeof line, in); ++n) {
    std::string want(line);
    while (!want.empty() && (want.back() == '\n' || want.back() == '\r')) want.pop_back();
    std::string got = runner.run(cases[n]);
    if (got != want && ++bad <= 20)
      std::printf("case %zu insn %08x: core '%s' qemu '%s'\n", n, cases[n].insn, got.c_str(),
                  want.c_str());
  }
  std::fclose(in);
  if (n != cases.size()) {
    std::printf("reference has %zu lines, expected %zu\n", n, cases.size());
    return 100;
  }
  std::printf("%zu cases, %d mismatches\n", n, bad);
  return bad > 100 ? 100 : bad;
}
