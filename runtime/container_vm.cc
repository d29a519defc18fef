#include "runtime/container_vm.h"

#include "emulators/virtio/p9_device.h"
#include "guest_protocol/protocol.h"

namespace c2w::runtime {

std::string share_tag(unsigned slot) {
  return "c2w.share" + std::to_string(slot);
}

std::string container_bootargs(const std::string& extra) {
  // panic=-1: a panicking kernel resets at once, which ends the run with a clear message.
  // init_on_free=1: freed pages are zeroed, so the boot snapshot stores only live pages.
  std::string args = "console=hvc0 earlycon=sbi panic=-1 quiet init_on_free=1";
  if (!extra.empty()) args += " " + extra;
  return args;
}

riscv64::MachineConfig container_config(uint64_t ram_size, const std::string& bootargs) {
  riscv64::MachineConfig c;
  c.ram_size = ram_size;
  c.bootargs = bootargs;
  c.rng = true;
  c.ports.push_back({"", true});
  for (std::string_view name : {guest_protocol::kControlPort, guest_protocol::kStdinPort,
                                guest_protocol::kStdoutPort, guest_protocol::kStderrPort})
    c.ports.push_back({std::string(name), false});
  c.extra_devices = make_share_devices();
  return c;
}

std::vector<std::unique_ptr<virtio::Device>> make_share_devices() {
  std::vector<std::unique_ptr<virtio::Device>> devices;
  for (unsigned i = 0; i < kShareSlots; ++i)
    devices.push_back(virtio::P9Device::create(share_tag(i)));
  return devices;
}

Ports find_ports(const riscv64::Machine& m) {
  Ports p;
  p.control = m.find_port(std::string(guest_protocol::kControlPort));
  p.in = m.find_port(std::string(guest_protocol::kStdinPort));
  p.out = m.find_port(std::string(guest_protocol::kStdoutPort));
  p.err = m.find_port(std::string(guest_protocol::kStderrPort));
  return p;
}

}  // namespace c2w::runtime
