// Differential reference: runs every case of tests/riscv64/diff_cases.h on the machine it runs
// on (qemu-riscv64-static in the tests) and prints one line per case:
//   <x28 after> <f4 after> <fflags>     (hex)
// The native test runs the same harness on our core and compares line by line.
#include <sys/mman.h>

#include <cstdio>
#include <cstring>

#include "tests/riscv64/diff_cases.h"

int main() {
  const std::vector<rvdiff::Case> cases = rvdiff::make_cases();
  void* mem =
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  auto* code = static_cast<uint32_t*>(mem);
  using Fn = void (*)(rvdiff::Slot*);
  uint32_t loaded = 0;  // an illegal encoding: no case uses it
  for (const rvdiff::Case& c : cases) {
    if (c.insn != loaded) {  // rewriting code is what costs time under qemu: do it per insn
      std::vector<uint32_t> h = rvdiff::harness(c.insn);
      std::memcpy(code, h.data(), h.size() * 4);
      __builtin___clear_cache(static_cast<char*>(mem), static_cast<char*>(mem) + h.size() * 4);
      loaded = c.insn;
    }
    rvdiff::Slot s{{c.in[0], c.in[1], c.in[2]}, c.frm, rvdiff::kPresetX, rvdiff::kPresetF, 0};
    reinterpret_cast<Fn>(mem)(&s);
    std::printf("%016llx %016llx %02llx\n", static_cast<unsigned long long>(s.x_out),
                static_cast<unsigned long long>(s.f_out),
                static_cast<unsigned long long>(s.fflags));
  }
  return 0;
}
