// Machine snapshots. Format (version 1), all integers little-endian, no host pointers or
// host-sized integers, every field written one by one:
//
//   "c2wsnap\0"  u32 version = 1  u32 arch = "RV64"
//   sections, each: 4-byte tag, u64 payload length, payload
//     "CONF"  u64 ram size, str bootargs, u32 ports {str name, u8 console}, u8 rng,
//             u32 extra devices {u32 virtio device id}, u8 disk, u64 disk size in bytes
//             (snapshots written before disks existed end after the extra devices: no disk)
//     "TIME"  u64 guest timer ticks (10 MHz) at save: the restored clock continues from there
//     "CPU "  architectural hart state (see save_cpu)
//     "MACH"  halted/exit state, device tree address, SBI console input not yet read and
//             output not yet taken, port output not yet taken
//     "PLIC"  "RTC "  device state
//     "VIRT"  u32 count, per slot: u32 device id, transport registers and queues, device state
//     "RAM "  u32 page size (4096), u64 pages in RAM, u64 pages stored,
//             then per stored page: u32 page index, 4096 bytes. All-zero pages are omitted.
//     "END "  empty
//
// RAM comes last so a packer can lay the pages out as data segments and pass the rest on.
#include <cstring>

#include "emulators/common/byte_io.h"
#include "emulators/riscv64/goldfish_rtc.h"
#include "emulators/riscv64/machine.h"
#include "emulators/riscv64/plic.h"
#include "emulators/virtio/mmio.h"

namespace c2w::riscv64 {
namespace {

constexpr char kMagic[8] = {'c', '2', 'w', 's', 'n', 'a', 'p', '\0'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kArch = 0x34365652;  // "RV64"
constexpr uint32_t kPage = emulators::kGuestPageSize;

void save_cpu(const Cpu& c, emulators::ByteWriter& w) {
  for (uint64_t v : c.x) w.u64(v);
  for (uint64_t v : c.f) w.u64(v);
  w.u64(c.pc);
  w.u8(static_cast<uint8_t>(c.priv));
  for (uint64_t v :
       {c.mstatus,  c.medeleg, c.mideleg,  c.mie,        c.mip,           c.mtvec,   c.mscratch,
        c.mepc,     c.mcause,  c.mtval,    c.mcounteren, c.mcountinhibit, c.menvcfg, c.stvec,
        c.sscratch, c.sepc,    c.scause,   c.stval,      c.scounteren,    c.senvcfg, c.satp,
        c.cycle,    c.instret, c.mtimecmp, c.stimecmp})
    w.u64(v);
  w.u8(c.fflags);
  w.u8(c.frm);
  for (uint64_t v : c.pmpcfg) w.u64(v);
  for (uint64_t v : c.pmpaddr) w.u64(v);
  w.u64(c.mhartid);
  w.boolean(c.reservation_valid);
  w.u64(c.reservation_addr);
  w.boolean(c.waiting);
}

bool load_cpu(Cpu& c, emulators::ByteReader& r) {
  for (uint64_t& v : c.x) v = r.u64();
  c.x[0] = 0;
  for (uint64_t& v : c.f) v = r.u64();
  c.pc = r.u64();
  const uint8_t priv = r.u8();
  if (priv != 0 && priv != 1 && priv != 3) return false;
  c.priv = static_cast<Priv>(priv);
  for (uint64_t* v : {&c.mstatus,    &c.medeleg,       &c.mideleg, &c.mie,        &c.mip,
                      &c.mtvec,      &c.mscratch,      &c.mepc,    &c.mcause,     &c.mtval,
                      &c.mcounteren, &c.mcountinhibit, &c.menvcfg, &c.stvec,      &c.sscratch,
                      &c.sepc,       &c.scause,        &c.stval,   &c.scounteren, &c.senvcfg,
                      &c.satp,       &c.cycle,         &c.instret, &c.mtimecmp,   &c.stimecmp})
    *v = r.u64();
  c.fflags = r.u8() & 31;
  c.frm = r.u8() & 7;
  for (uint64_t& v : c.pmpcfg) v = r.u64();
  for (uint64_t& v : c.pmpaddr) v = r.u64();
  c.mhartid = r.u64();
  c.reservation_valid = r.boolean();
  c.reservation_addr = r.u64();
  c.waiting = r.boolean();
  c.flush_caches();
  return r.ok();
}

// Walks the sections after CONF without building anything, so a corrupt snapshot is refused
// before the machine allocates its RAM.
bool check_layout(emulators::ByteReader r, uint64_t ram_size) {
  for (const char* tag : {"TIME", "CPU ", "MACH", "PLIC", "RTC ", "VIRT"}) r.section(tag);
  emulators::ByteReader ram = r.section("RAM ");
  const uint32_t page = ram.u32();
  const uint64_t pages = ram.u64(), stored = ram.u64();
  r.section("END ");
  return r.ok() && ram.ok() && page == kPage && pages == ram_size / kPage && stored <= pages &&
         ram.remaining() == stored * (4 + kPage);
}

bool all_zero(const uint8_t* p) {
  uint64_t acc = 0;
  for (unsigned i = 0; i < kPage; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    acc |= v;
  }
  return acc == 0;
}

}  // namespace

std::vector<uint8_t> Machine::save() const {
  emulators::ByteWriter w;
  w.bytes(kMagic, 8);
  w.u32(kVersion);
  w.u32(kArch);

  uint64_t s = w.begin_section("CONF");
  w.u64(bus_->ram_size());
  w.str(config_.bootargs);
  w.u32(static_cast<uint32_t>(config_.ports.size()));
  for (const virtio::PortSpec& p : config_.ports) {
    w.str(p.name);
    w.boolean(p.console);
  }
  w.boolean(config_.rng);
  w.u32(static_cast<uint32_t>(config_.extra_devices.size()));
  for (const auto& d : config_.extra_devices) w.u32(d->device_id());
  w.boolean(config_.disk != nullptr);
  w.u64(config_.disk ? config_.disk->size() : 0);
  w.end_section(s);

  s = w.begin_section("TIME");
  w.u64(ticks());
  w.end_section(s);

  s = w.begin_section("CPU ");
  save_cpu(*cpu_, w);
  w.end_section(s);

  s = w.begin_section("MACH");
  w.boolean(halted_);
  w.boolean(rebooted_);
  w.u32(static_cast<uint32_t>(exit_status_));
  w.u64(fdt_addr_);
  w.str(std::string_view(console_in_).substr(console_in_pos_));
  w.str(console_out_);
  w.u32(static_cast<uint32_t>(port_out_.size()));
  for (const std::string& o : port_out_) w.str(o);
  w.end_section(s);

  s = w.begin_section("PLIC");
  plic_->save(w);
  w.end_section(s);

  s = w.begin_section("RTC ");
  rtc_->save(w);
  w.end_section(s);

  s = w.begin_section("VIRT");
  w.u32(static_cast<uint32_t>(virtio_.size()));
  for (const auto& t : virtio_) {
    w.u32(t->device()->device_id());
    t->save(w);
  }
  w.end_section(s);

  s = w.begin_section("RAM ");
  const uint64_t pages = bus_->ram_size() / kPage;
  w.u32(kPage);
  w.u64(pages);
  const uint64_t count_at = w.data().size();
  w.u64(0);
  uint64_t stored = 0;
  for (uint64_t i = 0; i < pages; ++i) {
    const uint8_t* p = bus_->ram() + i * kPage;
    if (all_zero(p)) continue;
    w.u32(static_cast<uint32_t>(i));
    w.bytes(p, kPage);
    ++stored;
  }
  for (unsigned b = 0; b < 8; ++b) w.data()[count_at + b] = static_cast<uint8_t>(stored >> (8 * b));
  w.end_section(s);

  s = w.begin_section("END ");
  w.end_section(s);
  return std::move(w.data());
}

std::unique_ptr<Machine> Machine::restore(const uint8_t* data, uint64_t len, emulators::Host& host,
                                          std::string* error,
                                          std::vector<std::unique_ptr<virtio::Device>> extra,
                                          uint8_t* ram, emulators::BlockSource* disk) {
  emulators::ByteReader r(data, len);
  char magic[8];
  r.bytes(magic, 8);
  if (!r.ok() || std::memcmp(magic, kMagic, 8) != 0) return *error = "not a c2w snapshot", nullptr;
  const uint32_t version = r.u32(), arch = r.u32();
  if (version != kVersion)
    return *error = "snapshot version " + std::to_string(version) + " (this build reads 1)",
           nullptr;
  if (arch != kArch) return *error = "snapshot is not of a riscv64 machine", nullptr;

  emulators::ByteReader conf = r.section("CONF");
  MachineConfig config;
  config.ram_size = conf.u64();
  config.bootargs = conf.str();
  const uint32_t nports = conf.u32();
  if (nports == 0 || nports > 31) return *error = "corrupt snapshot (ports)", nullptr;
  for (uint32_t i = 0; i < nports && conf.ok(); ++i) {
    virtio::PortSpec p;
    p.name = conf.str(4096);
    p.console = conf.boolean();
    config.ports.push_back(std::move(p));
  }
  config.rng = conf.boolean();
  const uint32_t nextra = conf.u32();
  if (!conf.ok() || !r.ok()) return *error = "corrupt snapshot (configuration)", nullptr;
  if (nextra != extra.size())
    return *error = "snapshot has " + std::to_string(nextra) + " extra virtio devices, " +
                    std::to_string(extra.size()) + " given",
           nullptr;
  for (uint32_t i = 0; i < nextra; ++i)
    if (conf.u32() != extra[i]->device_id())
      return *error = "extra virtio device " + std::to_string(i) + " is of another kind", nullptr;
  config.extra_devices = std::move(extra);
  bool had_disk = false;
  uint64_t disk_size = 0;
  if (conf.remaining() > 0) {  // absent from snapshots written before disks existed
    had_disk = conf.boolean();
    disk_size = conf.u64();
  }
  if (!conf.ok()) return *error = "corrupt snapshot (configuration)", nullptr;
  if (had_disk && !disk)
    return *error = "the snapshot's machine has a disk (" + std::to_string(disk_size) +
                    " bytes); none given",
           nullptr;
  if (!had_disk && disk) return *error = "the snapshot's machine has no disk; one given", nullptr;
  if (disk && disk->size() != disk_size)
    return *error = "the snapshot's disk is " + std::to_string(disk_size) +
                    " bytes, the one given " + std::to_string(disk->size()),
           nullptr;
  config.disk = disk;
  if (config.ram_size % kPage || config.ram_size > (uint64_t{1} << 40))
    return *error = "corrupt snapshot (RAM size)", nullptr;

  if (!check_layout(r, config.ram_size)) return *error = "corrupt snapshot (layout)", nullptr;

  std::unique_ptr<Machine> m(new Machine(std::move(config), host, ram));
  if (!m->build(error)) return nullptr;
  const uint64_t consumed = len - r.remaining();
  if (!m->load_state(data + consumed, r.remaining(), ram != nullptr, error)) return nullptr;
  return m;
}

bool Machine::load_state(const uint8_t* data, uint64_t len, bool ram_preloaded,
                         std::string* error) {
  emulators::ByteReader r(data, len);
  auto corrupt = [&](const char* what) {
    *error = std::string("corrupt snapshot (") + what + ")";
    return false;
  };

  emulators::ByteReader time = r.section("TIME");
  tick_base_ = time.u64();
  ns_base_ = host_.monotonic_ns();
  if (!time.ok()) return corrupt("time");

  emulators::ByteReader cpu = r.section("CPU ");
  if (!load_cpu(*cpu_, cpu)) return corrupt("cpu");

  emulators::ByteReader mach = r.section("MACH");
  halted_ = mach.boolean();
  rebooted_ = mach.boolean();
  exit_status_ = static_cast<int>(mach.u32());
  fdt_addr_ = mach.u64();
  console_in_ = mach.str();
  console_in_pos_ = 0;
  console_out_ = mach.str();
  if (mach.u32() != port_out_.size()) return corrupt("ports");
  for (std::string& o : port_out_) o = mach.str();
  if (!mach.ok()) return corrupt("machine");

  emulators::ByteReader plic = r.section("PLIC");
  if (!plic_->load(plic)) return corrupt("plic");
  emulators::ByteReader rtc = r.section("RTC ");
  if (!rtc_->load(rtc)) return corrupt("rtc");

  emulators::ByteReader virt = r.section("VIRT");
  if (virt.u32() != virtio_.size()) return corrupt("virtio device count");
  for (auto& t : virtio_) {
    if (virt.u32() != t->device()->device_id() || !t->load(virt)) return corrupt("virtio");
  }
  if (!virt.ok()) return corrupt("virtio");

  emulators::ByteReader ram = r.section("RAM ");
  const uint32_t page = ram.u32();
  const uint64_t pages = ram.u64(), stored = ram.u64();
  if (!ram.ok() || page != kPage || pages != bus_->ram_size() / kPage || stored > pages)
    return corrupt("ram header");
  for (uint64_t i = 0; i < stored; ++i) {
    const uint32_t index = ram.u32();
    const uint8_t* bytes = ram.view(kPage);
    if (!bytes || index >= pages) return corrupt("ram page");
    if (!ram_preloaded) std::memcpy(bus_->ram() + uint64_t{index} * kPage, bytes, kPage);
  }
  r.section("END ");
  if (!r.ok()) return corrupt("sections");
  // Devices may have buffered work for the host across the save (e.g. paused output).
  cpu_->flush_caches();
  return true;
}

}  // namespace c2w::riscv64
