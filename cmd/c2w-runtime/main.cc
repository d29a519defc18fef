// c2w-runtime: the WebAssembly module c2w outputs, before and after packing. The pack op
// (ops/pack) places a booted machine's RAM pages as data segments in g_ram and its other
// state in g_state, and records their sizes in c2w_pack_info; starting the module restores the
// machine from there without copying RAM, then runs the container as the command line asks
// (runtime/run_args.h). Each preopened directory is shared at its guest path.
#include <unistd.h>
#include <wasi/api.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "emulators/common/host.h"
#include "emulators/riscv64/machine.h"
#include "emulators/virtio/p9_device.h"
#include "runtime/container_vm.h"
#include "runtime/launch.h"

namespace {

// Guest RAM and the machine state live in zero-initialized arrays reserved at link time, below
// the heap: wasi-libc's malloc takes everything from __heap_base up to the initial memory size,
// so nothing the packer places may lie there. Zero pages cost nothing until touched.
constexpr uint32_t kRamCapacity = 1u << 30;
constexpr uint32_t kStateCapacity = 8u << 20;
alignas(65536) uint8_t g_ram[kRamCapacity];
alignas(16) uint8_t g_state[kStateCapacity];

// The pack info (ops/pack/pack_module.h, version 2): on wasm32 this is 8 little-endian u32.
struct PackInfo {
  uint32_t magic, version;
  uint8_t* ram;
  uint32_t ram_capacity;
  uint8_t* state;
  uint32_t state_capacity;
  uint32_t ram_size, state_len;  // written by the packer
};
static_assert(sizeof(PackInfo) == 32, "the pack info is 8 words on wasm32");

}  // namespace

// Exported (-Wl,--export=c2w_pack_info) so the packer finds it; volatile because the packer
// rewrites it after the compiler has seen its initial value.
extern "C" __attribute__((used)) volatile PackInfo c2w_pack_info = {
    0x50573243u, 2, g_ram, kRamCapacity, g_state, kStateCapacity, 0, 0};

extern char** environ;

namespace {

// Preopened directories: name (the guest path) for each descriptor from 3 up.
std::vector<c2w::runtime::HostShare> preopens() {
  std::vector<c2w::runtime::HostShare> shares;
  for (__wasi_fd_t fd = 3;; ++fd) {
    __wasi_prestat_t st;
    if (__wasi_fd_prestat_get(fd, &st) != __WASI_ERRNO_SUCCESS) break;
    if (st.tag != __WASI_PREOPENTYPE_DIR) continue;
    std::string name(st.u.dir.pr_name_len, '\0');
    if (__wasi_fd_prestat_dir_name(fd, reinterpret_cast<uint8_t*>(name.data()),
                                   static_cast<__wasi_size_t>(name.size())) != __WASI_ERRNO_SUCCESS)
      continue;
    while (!name.empty() && name.back() == '\0') name.pop_back();
    if (name.empty() || name == "." || name == "./") continue;  // the runtime's cwd, not a share
    const std::string guest = name[0] == '/' ? name : "/" + name;
    shares.push_back({name, guest, false});
  }
  return shares;
}

// Live terminal resize: a host that runs the module (the browser worker, web/c2w-wasi.js)
// calls this export from inside one of its WASI calls when its terminal changes size; the
// session sends the guest a Resize at its next turn. Only stores: safe to call re-entrantly.
volatile uint32_t g_resize_seq = 0, g_resize_taken = 0;
volatile uint16_t g_resize_rows = 0, g_resize_cols = 0;

class ModuleStdio final : public c2w::runtime::Stdio {
 public:
  bool wait(uint64_t timeout_ns, bool want_stdin) override {
    return posix_.wait(timeout_ns, want_stdin);
  }
  long read_stdin(uint8_t* buf, size_t cap) override { return posix_.read_stdin(buf, cap); }
  void write(int fd, std::string_view data) override { posix_.write(fd, data); }
  bool stdin_is_terminal() override { return posix_.stdin_is_terminal(); }
  bool take_resize(uint16_t* rows, uint16_t* cols) override {
    if (g_resize_seq == g_resize_taken) return false;
    g_resize_taken = g_resize_seq;
    *rows = g_resize_rows;
    *cols = g_resize_cols;
    return true;
  }

 private:
  c2w::runtime::PosixStdio posix_;
};

}  // namespace

extern "C" __attribute__((export_name("c2w_resize"))) void c2w_resize(uint32_t rows,
                                                                      uint32_t cols) {
  g_resize_rows = static_cast<uint16_t>(rows);
  g_resize_cols = static_cast<uint16_t>(cols);
  g_resize_seq = g_resize_seq + 1;
}

int main(int argc, char** argv) {
  const std::string program = argc > 0 && argv[0] && *argv[0] ? argv[0] : "c2w-runtime";
  if (c2w_pack_info.ram_size == 0 || c2w_pack_info.state_len == 0) {
    std::fprintf(stderr,
                 "%s: this is c2w's bare runtime without a machine in it; convert an image with "
                 "`c2w IMAGE out.wasm` and run out.wasm\n",
                 program.c_str());
    return c2w::runtime::kFailed;
  }
  uint8_t* ram = c2w_pack_info.ram;
  const uint8_t* state = c2w_pack_info.state;
  const uint32_t state_len = c2w_pack_info.state_len;

  c2w::emulators::PosixHost host;
  auto devices = c2w::runtime::make_share_devices();
  std::vector<c2w::virtio::P9Device*> slots;
  for (auto& d : devices) slots.push_back(static_cast<c2w::virtio::P9Device*>(d.get()));
  std::string error;
  std::unique_ptr<c2w::riscv64::Machine> m =
      c2w::riscv64::Machine::restore(state, state_len, host, &error, std::move(devices), ram);
  if (!m) {
    std::fprintf(stderr, "%s: cannot restore the packed machine: %s\n", program.c_str(),
                 error.c_str());
    return c2w::runtime::kFailed;
  }

  c2w::runtime::Launch l;
  l.program = program;
  for (int i = 1; i < argc; ++i) l.args.emplace_back(argv[i]);
  for (char** e = environ; e && *e; ++e) l.env.emplace_back(*e);
  l.shares = preopens();
  ModuleStdio io;
  return c2w::runtime::launch(*m, slots, l, io, host);
}
