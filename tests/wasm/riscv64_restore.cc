// Restores a riscv64 machine snapshot in the wasm32 build and runs it to the end: the check
// that snapshots written by the native build (64-bit) continue in a 32-bit WASI module.
//   riscv64_restore.wasm SNAPSHOT
// Standard input (read to its end first) is typed into the SBI console; the output of the SBI
// console and of every virtio console port goes to stdout. Exits with the guest's status, 3 on
// an emulator error.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "emulators/common/host.h"
#include "emulators/riscv64/machine.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: riscv64_restore SNAPSHOT\n");
    return 64;
  }
  std::vector<uint8_t> snap;
  FILE* f = std::fopen(argv[1], "rb");
  if (!f) {
    std::fprintf(stderr, "riscv64_restore: cannot open %s\n", argv[1]);
    return 3;
  }
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) snap.insert(snap.end(), buf, buf + n);
  std::fclose(f);
  std::string input;
  ssize_t got;
  while ((got = read(0, buf, sizeof buf)) > 0) input.append(reinterpret_cast<char*>(buf), got);

  c2w::emulators::PosixHost host;
  std::string error;
  auto m = c2w::riscv64::Machine::restore(snap.data(), snap.size(), host, &error);
  if (!m) {
    std::fprintf(stderr, "riscv64_restore: %s\n", error.c_str());
    return 3;
  }
  snap.clear();
  snap.shrink_to_fit();
  m->console_input(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  for (;;) {
    const c2w::riscv64::RunResult r = m->run(20'000'000);
    const std::string out = m->take_console_output();
    std::fwrite(out.data(), 1, out.size(), stdout);
    for (unsigned p = 0; p < m->num_ports(); ++p) {
      const std::string port = m->take_port_output(p);
      std::fwrite(port.data(), 1, port.size(), stdout);
    }
    if (r.stop == c2w::riscv64::Stop::kHalted) {
      std::fflush(stdout);
      return m->exit_status();
    }
    if (r.stop == c2w::riscv64::Stop::kError) {
      std::fprintf(stderr, "riscv64_restore: %s\n", m->error().c_str());
      return 3;
    }
    if (r.stop == c2w::riscv64::Stop::kIdle) {
      std::fflush(stdout);
      const uint64_t now = host.monotonic_ns();
      uint64_t wait = r.deadline_ns > now ? r.deadline_ns - now : 0;
      if (wait > 100'000'000) wait = 100'000'000;
      const timespec ts{static_cast<time_t>(wait / 1'000'000'000),
                        static_cast<long>(wait % 1'000'000'000)};
      nanosleep(&ts, nullptr);
    }
  }
}
