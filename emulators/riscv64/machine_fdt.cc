// The device tree handed to the kernel, generated from the machine configuration. Node names,
// compatibles and the interrupt wiring follow qemu's virt board so drivers match as there.
#include <cstdio>

#include "emulators/common/fdt.h"
#include "emulators/riscv64/goldfish_rtc.h"
#include "emulators/riscv64/machine.h"
#include "emulators/riscv64/plic.h"
#include "emulators/virtio/mmio.h"

namespace c2w::riscv64 {
namespace {

constexpr uint32_t kIntcPhandle = 1, kPlicPhandle = 2;

std::string node_name(const char* base, uint64_t addr) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s@%llx", base, static_cast<unsigned long long>(addr));
  return buf;
}

void reg(emulators::FdtWriter& w, uint64_t base, uint64_t size) {
  w.prop_cells("reg", {static_cast<uint32_t>(base >> 32), static_cast<uint32_t>(base),
                       static_cast<uint32_t>(size >> 32), static_cast<uint32_t>(size)});
}

}  // namespace

std::vector<uint8_t> Machine::make_fdt(uint64_t initrd_start, uint64_t initrd_end) const {
  emulators::FdtWriter w;
  w.begin_node("");
  w.prop_u32("#address-cells", 2);
  w.prop_u32("#size-cells", 2);
  w.prop_str("compatible", "c2w,riscv64-virt");
  w.prop_str("model", "c2w riscv64");

  w.begin_node("chosen");
  w.prop_str("bootargs", config_.bootargs);
  if (initrd_end > initrd_start) {
    w.prop_u64("linux,initrd-start", initrd_start);
    w.prop_u64("linux,initrd-end", initrd_end);
  }
  w.end_node();

  w.begin_node(node_name("memory", Bus::kRamBase));
  w.prop_str("device_type", "memory");
  reg(w, Bus::kRamBase, bus_->ram_size());
  w.end_node();

  w.begin_node("cpus");
  w.prop_u32("#address-cells", 1);
  w.prop_u32("#size-cells", 0);
  w.prop_u32("timebase-frequency", static_cast<uint32_t>(Cpu::kTimebaseHz));
  w.begin_node("cpu@0");
  w.prop_str("device_type", "cpu");
  w.prop_u32("reg", 0);
  w.prop_str("status", "okay");
  w.prop_str("compatible", "riscv");
  w.prop_str("riscv,isa", "rv64imafdc_zicsr_zifencei_sstc");
  w.prop_str("mmu-type", "riscv,sv48");
  w.begin_node("interrupt-controller");
  w.prop_u32("#address-cells", 0);
  w.prop_u32("#interrupt-cells", 1);
  w.prop_empty("interrupt-controller");
  w.prop_str("compatible", "riscv,cpu-intc");
  w.prop_u32("phandle", kIntcPhandle);
  w.end_node();
  w.end_node();
  w.end_node();

  w.begin_node("soc");
  w.prop_u32("#address-cells", 2);
  w.prop_u32("#size-cells", 2);
  w.prop_str("compatible", "simple-bus");
  w.prop_empty("ranges");

  w.begin_node(node_name("plic", kPlicBase));
  w.prop_strs("compatible", {"sifive,plic-1.0.0", "riscv,plic0"});
  reg(w, kPlicBase, Plic::kWindowSize);
  // Context 0: M-mode external interrupt (11), context 1: S-mode external interrupt (9).
  w.prop_cells("interrupts-extended", {kIntcPhandle, kMEI, kIntcPhandle, kSEI});
  w.prop_empty("interrupt-controller");
  w.prop_u32("#interrupt-cells", 1);
  w.prop_u32("#address-cells", 0);
  w.prop_u32("riscv,ndev", Plic::kSources - 1);
  w.prop_u32("phandle", kPlicPhandle);
  w.end_node();

  w.begin_node(node_name("rtc", kRtcBase));
  w.prop_str("compatible", "google,goldfish-rtc");
  reg(w, kRtcBase, GoldfishRtc::kWindowSize);
  w.prop_u32("interrupts", kRtcIrq);
  w.prop_u32("interrupt-parent", kPlicPhandle);
  w.end_node();

  for (size_t i = 0; i < virtio_.size(); ++i) {
    const uint64_t base = kVirtioBase + i * virtio::MmioTransport::kWindowSize;
    w.begin_node(node_name("virtio_mmio", base));
    w.prop_str("compatible", "virtio,mmio");
    reg(w, base, virtio::MmioTransport::kWindowSize);
    w.prop_u32("interrupts", kVirtioIrqBase + static_cast<uint32_t>(i));
    w.prop_u32("interrupt-parent", kPlicPhandle);
    w.end_node();
  }
  w.end_node();  // soc

  w.end_node();  // root
  return w.finish();
}

}  // namespace c2w::riscv64
