// The machine every c2w container runs in, as one shared definition: boot builds it
// from a kernel and an initramfs, the runtime (native c2w-vm and the wasm32 module) rebuilds
// it from the snapshot. Both sides must agree on its virtio devices, so they live here.
//
// Promises:
//  - ports: port 0 a console (hvc1 in the guest), then c2w.control, c2w.stdin, c2w.stdout and
//    c2w.stderr (init/README.md);
//  - kShareSlots virtio-9p devices with the tags share_tag(0..kShareSlots-1), created unbound:
//    the directories to share are only known when the module starts, after the snapshot;
//  - the kernel command line keeps freed pages zero (init_on_free=1), so the snapshot of a
//    booted machine stores only pages in use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "emulators/riscv64/machine.h"
#include "emulators/virtio/device.h"

namespace c2w::runtime {

inline constexpr unsigned kShareSlots = 4;
inline constexpr uint64_t kDefaultRam = uint64_t{256} << 20;

std::string share_tag(unsigned slot);

// Kernel arguments for a container machine; `extra` is appended (e.g. c2w.debug).
std::string container_bootargs(const std::string& extra);
// What `extra` carries when the container's files are the machine's disk (init/README.md):
// the disk is /dev/vda, the only block device.
inline constexpr const char* kDiskBootarg = "c2w.disk=vda";

// A fresh machine configuration: ports and rng; `extra_devices` holds the unbound shares.
riscv64::MachineConfig container_config(uint64_t ram_size, const std::string& bootargs);

// The share devices in slot order, unbound.
std::vector<std::unique_ptr<virtio::Device>> make_share_devices();

// Port indices of a container machine, looked up by name.
struct Ports {
  int control = -1, in = -1, out = -1, err = -1;
  bool complete() const { return control >= 0 && in >= 0 && out >= 0 && err >= 0; }
};
Ports find_ports(const riscv64::Machine& m);

}  // namespace c2w::runtime
