// A riscv64 virtual machine that boots an unmodified Linux: one hart (cpu.h), RAM at
// 0x80000000, SBI implemented in the emulator (no firmware blob), a PLIC, a goldfish RTC and
// virtio-mmio devices (a multiport console, an entropy source, an optional read-only disk and
// any device the embedder adds), described to the kernel by a device tree generated from the
// configuration.
//
// It promises:
//  - the hand-off OpenSBI's fw_dynamic gives Linux: S-mode at the kernel entry, a0 = hartid,
//    a1 = device tree, traps and S interrupts delegated, counters and Sstc enabled;
//  - run() never sleeps and never spins: when the hart waits for an interrupt it returns
//    Stop::kIdle with the host-monotonic deadline of the next timer, and the embedder sleeps
//    until then or until it has input for the guest;
//  - guest output is buffered, bounded, and handed over through take_*_output(); run() returns
//    Stop::kOutput when a buffer needs draining;
//  - save() writes a versioned, explicit, little-endian snapshot (see machine_snapshot.cc) that
//    restore() continues from in another process, also in a wasm32 build;
//  - nothing the guest does can crash or hang the host process (devices check every
//    guest-controlled value; a guest may only break itself).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emulators/common/block_source.h"
#include "emulators/common/host.h"
#include "emulators/riscv64/bus.h"
#include "emulators/riscv64/cpu.h"
#include "emulators/virtio/console.h"
#include "emulators/virtio/device.h"

namespace c2w::virtio {
class Blk;
class MmioTransport;
}  // namespace c2w::virtio

namespace c2w::riscv64 {

class Plic;
class GoldfishRtc;

struct MachineConfig {
  uint64_t ram_size = 256 << 20;
  std::string bootargs;
  std::vector<uint8_t> kernel;  // a Linux Image (or any flat binary) run at kKernelBase
  std::vector<uint8_t> initrd;  // optional initramfs
  // virtio console ports; ports[0] should be a console. Empty: one console port.
  std::vector<virtio::PortSpec> ports;
  bool rng = true;
  // An optional read-only disk (virtio-blk, /dev/vda in the guest), in the slot after rng. Not
  // owned: it must outlive the machine. Snapshots record its size, not its bytes: restore()
  // takes the disk again and refuses one of another size.
  emulators::BlockSource* disk = nullptr;
  // Further virtio devices (e.g. 9p), each in its own virtio-mmio slot after the built-in ones.
  std::vector<std::unique_ptr<virtio::Device>> extra_devices;
};

enum class Stop : uint8_t {
  kBudget,  // ran max_instructions
  kIdle,    // the hart waits: sleep until deadline_ns (host monotonic) or until there is input
  kOutput,  // an output buffer passed kOutputHigh bytes: take the output, then run again
  kMarker,  // the snapshot marker appeared in guest output (the machine stopped right after it)
  kHalted,  // the guest powered off or rebooted through SBI: see exit_status() and rebooted()
  kError,   // the machine cannot continue: see error()
};

struct RunResult {
  Stop stop = Stop::kBudget;
  uint64_t deadline_ns = UINT64_MAX;  // for kIdle; UINT64_MAX: no timer is armed
};

class Machine {
 public:
  static constexpr uint64_t kKernelBase = Bus::kRamBase + 0x200000;
  static constexpr uint64_t kRtcBase = 0x101000;
  static constexpr uint64_t kPlicBase = 0xc000000;
  static constexpr uint64_t kVirtioBase = 0x10001000;
  static constexpr unsigned kRtcIrq = 11;
  static constexpr unsigned kVirtioIrqBase = 1;  // slot n uses PLIC source 1 + n
  static constexpr unsigned kMaxVirtio = 8;
  static constexpr uint64_t kOutputHigh = 64 << 10;
  static constexpr uint64_t kOutputCap = 1 << 20;
  static constexpr uint64_t kConsoleInputCap = 1 << 20;

  // Builds the machine and loads kernel, initrd and device tree. Null with *error on failure.
  static std::unique_ptr<Machine> create(MachineConfig config, emulators::Host& host,
                                         std::string* error);
  // Rebuilds a machine from save()'s output. extra_devices must match those of the saved
  // machine (same kinds, same order). `ram`, if not null, is guest RAM already holding the
  // snapshot's pages (e.g. placed by the wasm packer): the RAM section is then not copied.
  // `disk` must be given if and only if the saved machine had one, of the same size (not owned,
  // it must outlive the machine).
  static std::unique_ptr<Machine> restore(const uint8_t* data, uint64_t len, emulators::Host& host,
                                          std::string* error,
                                          std::vector<std::unique_ptr<virtio::Device>> extra = {},
                                          uint8_t* ram = nullptr,
                                          emulators::BlockSource* disk = nullptr);
  ~Machine();

  RunResult run(uint64_t max_instructions);

  // SBI console (earlycon=sbi, hvc0): input the guest reads with getchar, output it wrote.
  uint64_t console_input(const uint8_t* data, uint64_t len);
  std::string take_console_output();

  // virtio console ports (port 0 is the virtio console, hvc1 in a guest using hvc0 for SBI).
  unsigned num_ports() const;
  uint32_t port_input(unsigned port, const uint8_t* data, uint32_t len);
  std::string take_port_output(unsigned port);
  bool port_guest_open(unsigned port) const;
  void set_port_host_open(unsigned port, bool open);
  // Index of the port with this name, or -1.
  int find_port(const std::string& name) const;

  // Disk requests that failed because the disk could not produce the bytes (e.g. a corrupt
  // chunk: the guest got IOERR); 0 without a disk. The disk itself says why.
  uint64_t disk_errors() const;

  // When `marker` appears in the output of the SBI console or any port, run() stops with
  // Stop::kMarker right after the write that completed it. Empty disables.
  void set_snapshot_marker(std::string marker);

  std::vector<uint8_t> save() const;

  bool halted() const { return halted_; }
  int exit_status() const { return exit_status_; }
  bool rebooted() const { return rebooted_; }
  const std::string& error() const { return error_; }

  Cpu& cpu() { return *cpu_; }
  Bus& bus() { return *bus_; }
  const std::vector<uint8_t>& fdt() const { return fdt_; }
  uint64_t fdt_address() const { return fdt_addr_; }
  uint64_t ram_size() const { return config_.ram_size; }
  // Guest time in timer ticks (10 MHz).
  uint64_t ticks() const;

 private:
  Machine(MachineConfig config, emulators::Host& host, uint8_t* ram);
  bool build(std::string* error);
  bool load_images(std::string* error);
  std::vector<uint8_t> make_fdt(uint64_t initrd_start, uint64_t initrd_end) const;
  void reset_cpu(uint64_t fdt_addr);
  void handle_sbi();  // machine_sbi.cc
  bool load_state(const uint8_t* data, uint64_t len, bool ram_preloaded, std::string* error);
  void emit(int stream, const uint8_t* data, uint64_t len);  // stream -1: SBI console
  std::string& out_buffer(int stream);
  bool output_full() const;
  uint64_t deadline_ns();

  MachineConfig config_;
  emulators::Host& host_;
  std::unique_ptr<Bus> bus_;
  std::unique_ptr<Cpu> cpu_;
  std::unique_ptr<Plic> plic_;
  std::unique_ptr<GoldfishRtc> rtc_;
  std::unique_ptr<virtio::Console> console_dev_;
  std::unique_ptr<virtio::Device> rng_dev_;
  std::unique_ptr<virtio::Blk> blk_dev_;
  std::vector<std::unique_ptr<virtio::MmioTransport>> virtio_;
  std::vector<std::unique_ptr<Device>> adapters_;
  std::vector<uint8_t> fdt_;
  uint64_t fdt_addr_ = 0;

  // Guest time = tick_base_ + (host monotonic - ns_base_) / 100.
  uint64_t tick_base_ = 0;
  uint64_t ns_base_ = 0;

  std::string console_in_;
  size_t console_in_pos_ = 0;
  std::string console_out_;
  std::vector<std::string> port_out_;

  std::string marker_;
  std::vector<std::string> marker_tail_;  // per stream (index 0: SBI console, 1+n: port n)
  bool marker_hit_ = false;

  bool halted_ = false;
  bool rebooted_ = false;
  int exit_status_ = 0;
  std::string error_;
};

}  // namespace c2w::riscv64
