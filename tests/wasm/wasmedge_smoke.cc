// A wasm32-wasi program that both target runtimes (node:wasi through tools/c2w-run.mjs and
// WasmEdge through tools/wasmedge, interpreted and AOT-compiled) must run alike: it prints its
// arguments, the environment it was given, a file from the preopened /data, all of stdin and a
// line on stderr, writes /data/<argv[1]>.txt and exits with status 7.
// tests/toolchain/wasmedge-smoke.sh compares what each runtime makes of it.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

extern char** environ;

namespace {

// Reads all of fd; stops at end of file or the first error.
std::string slurp(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) std::printf("arg%d=%s\n", i, argv[i]);
  std::printf("argc=%d\n", argc);

  const char* env = std::getenv("SMOKE_ENV");
  std::printf("env SMOKE_ENV=%s\n", env ? env : "(unset)");
  int entries = 0;
  for (char** e = environ; *e; ++e) ++entries;
  std::printf("environ entries=%d\n", entries);

  int fd = open("/data/in.txt", O_RDONLY);
  std::printf("in.txt=%s", fd >= 0 ? slurp(fd).c_str() : "(cannot open /data/in.txt)\n");
  if (fd >= 0) close(fd);

  std::printf("stdin=%s", slurp(0).c_str());

  std::string name = std::string("/data/") + (argc > 1 ? argv[1] : "out") + ".txt";
  std::string line = std::string("written by ") + (argc > 1 ? argv[1] : "?") + "\n";
  fd = open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  bool wrote = fd >= 0 && write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (fd >= 0) close(fd);
  std::printf("%s %s\n", wrote ? "wrote" : "cannot write", name.c_str());

  std::fflush(stdout);
  std::fprintf(stderr, "smoke: on stderr\n");
  return 7;
}
