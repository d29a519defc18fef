// cpubench: a guest CPU benchmark for riscv64 machines (qemu-system-riscv64, c2w-emu, c2w-vm,
// and c2w's wasm module on node and WasmEdge). Fixed work, so every machine does the same
// instructions and prints the same checksums; only the seconds differ.
//
//   cpubench [--scale N] [--only PART]... [--init | --no-init]
//
// Parts (each timed with clock_gettime(CLOCK_MONOTONIC) in the guest):
//   crc32    table-driven CRC-32 over 1 MiB, 128 times
//   qsort    qsort() of 200k ints from a fixed-seed PRNG, 6 times
//   matmul   200x200 double matrix product, 15 times
//   string   build, concatenate (memcpy), measure (strlen), search (strstr) and sort 20k
//            strings, 12 times
// Each part takes about 1 s on qemu-system-riscv64 (TCG) on a 2024 x86-64 core; --scale N
// multiplies the work.
//   syscall  getppid() system calls, 8 x 200k
// Output, one line per part and a total:
//   <part> <seconds> <checksum> <instructions or ->
// The instruction count is the guest's instret delta when user mode may read it (exact on
// our emulator; on qemu without -icount it follows host ticks instead, so do not use it there).
//
// As /init of an initramfs (PID 1 and argv[0] ending in "init", or --init) it writes to
// /dev/console, mounts nothing and powers the machine off at the end. Inside a container (PID 1
// of a pid namespace too, but started by another name) it just exits; --no-init forces that.
#include <fcntl.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace {

int g_out = 1;

void out(const char* text) {
  size_t n = std::strlen(text);
  while (n > 0) {
    const ssize_t w = ::write(g_out, text, n);
    if (w <= 0) return;
    text += w;
    n -= static_cast<size_t>(w);
  }
}

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// ---- instret, when user mode may read it (else SIGILL, which we skip over once)
volatile sig_atomic_t g_instret_trapped = 0;

void on_sigill(int, siginfo_t*, void* context) {
  g_instret_trapped = 1;
  auto* uc = static_cast<ucontext_t*>(context);
  uc->uc_mcontext.__gregs[REG_PC] += 4;  // rdinstret is a 4-byte csrrs
}

uint64_t read_instret() {
  uint64_t v = 0;
  asm volatile("rdinstret %0" : "=r"(v));
  return v;
}

bool instret_readable() {
  struct sigaction sa {}, old{};
  sa.sa_sigaction = on_sigill;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGILL, &sa, &old) != 0) return false;
  const uint64_t a = read_instret();
  const uint64_t b = read_instret();
  sigaction(SIGILL, &old, nullptr);
  return !g_instret_trapped && b != a;
}

// ---- fixed-seed PRNG and a 64-bit mixing hash for checksums
struct Rng {
  uint64_t s;
  uint64_t next() {  // splitmix64
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

// ---- parts: each returns its checksum
uint64_t part_crc32(int scale) {
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  std::vector<uint8_t> buf(1 << 20);
  Rng rng{1};
  for (size_t i = 0; i < buf.size(); i += 8) {
    const uint64_t v = rng.next();
    std::memcpy(&buf[i], &v, 8);
  }
  uint64_t sum = 0;
  const int reps = 128 * scale;
  for (int r = 0; r < reps; ++r) {
    buf[static_cast<size_t>(r)] ^= 0x5a;  // each pass sees different data
    uint32_t c = 0xffffffffu;
    for (const uint8_t b : buf) c = table[(c ^ b) & 0xff] ^ (c >> 8);
    sum = mix(sum, c ^ 0xffffffffu);
  }
  return sum;
}

int compare_ints(const void* a, const void* b) {
  const int x = *static_cast<const int*>(a), y = *static_cast<const int*>(b);
  return (x > y) - (x < y);
}

uint64_t part_qsort(int scale) {
  constexpr size_t kN = 200'000;
  std::vector<int> v(kN);
  uint64_t sum = 0;
  const int reps = 6 * scale;
  for (int r = 0; r < reps; ++r) {
    Rng rng{100 + static_cast<uint64_t>(r)};
    for (int& x : v) x = static_cast<int>(rng.next() >> 33) - (1 << 30);
    std::qsort(v.data(), v.size(), sizeof(int), compare_ints);
    for (size_t i = 0; i < kN; i += 97) sum = mix(sum, static_cast<uint32_t>(v[i]));
    if (!std::is_sorted(v.begin(), v.end())) sum = mix(sum, 0xbad);
  }
  return sum;
}

uint64_t part_matmul(int scale) {
  constexpr int kN = 200;
  std::vector<double> a(kN * kN), b(kN * kN), c(kN * kN);
  Rng rng{7};
  for (double& x : a) x = static_cast<double>(rng.next() >> 11) * 0x1p-53 - 0.5;
  for (double& x : b) x = static_cast<double>(rng.next() >> 11) * 0x1p-53 - 0.5;
  uint64_t sum = 0;
  const int reps = 15 * scale;
  for (int r = 0; r < reps; ++r) {
    std::fill(c.begin(), c.end(), 0.0);
    for (int i = 0; i < kN; ++i)
      for (int k = 0; k < kN; ++k) {
        const double aik = a[i * kN + k];
        for (int j = 0; j < kN; ++j) c[i * kN + j] += aik * b[k * kN + j];
      }
    for (const double x : c) {
      uint64_t bits;
      std::memcpy(&bits, &x, 8);
      sum = mix(sum, bits);
    }
    a[static_cast<size_t>(r)] += 1.0;
  }
  return sum;
}

uint64_t part_string(int scale) {
  constexpr int kStrings = 20'000;
  uint64_t sum = 0;
  const int reps = 12 * scale;
  for (int r = 0; r < reps; ++r) {
    Rng rng{1000 + static_cast<uint64_t>(r)};
    std::vector<std::string> words;
    words.reserve(kStrings);
    char tmp[96];
    for (int i = 0; i < kStrings; ++i) {
      const int len = 8 + static_cast<int>(rng.next() % 57);
      for (int k = 0; k < len; ++k) tmp[k] = static_cast<char>('a' + rng.next() % 16);
      tmp[len] = 0;
      words.emplace_back(tmp);
    }
    // One big text of all the words (memcpy), walked word by word (strlen).
    std::string text;
    for (const std::string& w : words) {
      text += w;
      text += ' ';
    }
    std::vector<char> cbuf(text.size() + 1);
    std::memcpy(cbuf.data(), text.c_str(), text.size() + 1);
    for (char& ch : cbuf)
      if (ch == ' ') ch = 0;
    size_t total = 0;
    for (size_t at = 0; at < text.size(); at += std::strlen(cbuf.data() + at) + 1)
      total += std::strlen(cbuf.data() + at);
    sum = mix(sum, total);
    // Searches (strstr over the whole text).
    for (int q = 0; q < 40; ++q) {
      const std::string& w = words[rng.next() % words.size()];
      const std::string needle = w.substr(0, 6) + w.substr(w.size() - 3);
      size_t hits = 0;
      for (const char* p = text.c_str(); (p = std::strstr(p, needle.c_str())) != nullptr; ++p)
        ++hits;
      sum = mix(sum, hits);
    }
    // Sort, dedupe, and format lines (snprintf).
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (size_t i = 0; i < words.size(); i += 7) {
      const int n = std::snprintf(tmp, sizeof tmp, "%zu:%.20s", i, words[i].c_str());
      sum = mix(sum, static_cast<uint64_t>(n) ^ static_cast<uint8_t>(tmp[n - 1]));
    }
    sum = mix(sum, words.size());
    sum = mix(sum, std::hash<std::string_view>{}(words[words.size() / 2]));
  }
  return sum;
}

// The checksum counts calls that agree with the first one: the parent's pid itself differs
// between /init (0), a container's process and a shell.
uint64_t part_syscall(int scale) {
  const long first = ::syscall(SYS_getppid);
  uint64_t same = 0;
  const long reps = 8 * 200'000L * scale;
  for (long i = 0; i < reps; ++i) same += ::syscall(SYS_getppid) == first;
  return same;
}

struct Part {
  const char* name;
  uint64_t (*run)(int scale);
};

constexpr Part kParts[] = {{"crc32", part_crc32},
                           {"qsort", part_qsort},
                           {"matmul", part_matmul},
                           {"string", part_string},
                           {"syscall", part_syscall}};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "cpubench: %s\nusage: cpubench [--scale N] [--only PART]... [--init|--no-init]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int scale = 1;
  int init = -1;  // -1: decide from PID and name
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--scale" && i + 1 < argc)
      scale = std::atoi(argv[++i]);
    else if (a == "--only" && i + 1 < argc)
      only.emplace_back(argv[++i]);
    else if (a == "--init")
      init = 1;
    else if (a == "--no-init")
      init = 0;
    else
      usage(("unknown argument " + a).c_str());
  }
  if (scale < 1) usage("--scale wants a positive number");
  if (init < 0) {
    const std::string_view name(argv[0]);
    init = getpid() == 1 && name.size() >= 4 && name.substr(name.size() - 4) == "init";
  }
  if (init) {
    const int fd = ::open("/dev/console", O_WRONLY | O_NOCTTY);
    if (fd >= 0) g_out = fd;
  }

  const bool instret = instret_readable();
  char line[160];
  std::snprintf(line, sizeof line, "cpubench start scale=%d init=%d instret=%s\n", scale, init,
                instret ? "yes" : "no");
  out(line);

  double total_s = 0;
  uint64_t total_insns = 0;
  for (const Part& p : kParts) {
    if (!only.empty() && std::find(only.begin(), only.end(), p.name) == only.end()) continue;
    const uint64_t i0 = instret ? read_instret() : 0;
    const double t0 = now_s();
    const uint64_t sum = p.run(scale);
    const double s = now_s() - t0;
    const uint64_t insns = instret ? read_instret() - i0 : 0;
    total_s += s;
    total_insns += insns;
    char count[32] = "-";
    if (instret) std::snprintf(count, sizeof count, "%llu", static_cast<unsigned long long>(insns));
    std::snprintf(line, sizeof line, "%-8s %9.4f %016llx %s\n", p.name, s,
                  static_cast<unsigned long long>(sum), count);
    out(line);
  }
  char count[32] = "-";
  if (instret)
    std::snprintf(count, sizeof count, "%llu", static_cast<unsigned long long>(total_insns));
  std::snprintf(line, sizeof line, "%-8s %9.4f %016x %s\n", "total", total_s, 0u, count);
  out(line);

  if (init) {
    ::sync();
    ::reboot(RB_POWER_OFF);
    out("cpubench: power-off failed\n");
    for (;;) pause();  // PID 1 must not exit (that panics the kernel)
  }
  return 0;
}
