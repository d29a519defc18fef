// Boots a container machine from a kernel and an initramfs until guest init reports ready
// and saves the machine: the work of the boot op, which runs it in a child process
// (`c2w __boot-vm`, `c2w-vm boot`) so a guest or emulator fault cannot take the builder down.
//
// Promises:
//  - reproducible: the machine runs on emulators::VirtualHost (time follows retired instructions
//  and
//    skips idle waits, fixed epoch and entropy), in fixed slices, so the same kernel, initramfs
//    and arguments give a byte-identical snapshot on any host, however loaded;
//  - bounded: `timeout_s` of host time, and a guest that halts, panics or faults first is
//    reported with the tail of its console.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace c2w::emulators {
class BlockSource;
}

namespace c2w::runtime {

struct BootSpec {
  std::vector<uint8_t> kernel;
  std::vector<uint8_t> initrd;
  uint64_t memory = 0;
  std::string append;  // extra kernel arguments
  // The container's files as a read-only disk (container_disk_bootargs), or null when they are
  // in the initramfs. Must outlive the boot; the snapshot needs the same disk to restore.
  emulators::BlockSource* disk = nullptr;
  double timeout_s = 600;
};

struct BootResult {
  enum class Status { kReady, kStopped, kTimeout } status = Status::kStopped;
  std::vector<uint8_t> snapshot;
  std::string error;         // why it is not ready
  std::string console_tail;  // last lines of the guest console
  double guest_seconds = 0;
  uint64_t instructions = 0;
};

BootResult boot_to_ready(const BootSpec& spec,
                         const std::function<void(std::string_view)>& console);

// `__boot-vm` / `c2w-vm boot`: argv after the command word. Exit 0 ready, 1 stopped, 124 timeout.
int boot_vm_main(int argc, char** argv);

}  // namespace c2w::runtime
