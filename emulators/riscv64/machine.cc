// Machine assembly, image loading, the run loop and host I/O. SBI is in machine_sbi.cc, the
// device tree in machine_fdt.cc, snapshots in machine_snapshot.cc.
#include "emulators/riscv64/machine.h"

#include <cstring>
#include <string>

#include "emulators/riscv64/goldfish_rtc.h"
#include "emulators/riscv64/plic.h"
#include "emulators/virtio/blk.h"
#include "emulators/virtio/mmio.h"
#include "emulators/virtio/rng.h"

namespace c2w::riscv64 {
namespace {

constexpr uint64_t kPage = emulators::kGuestPageSize;

// Routes bus accesses to a virtio-mmio transport (which knows nothing about this bus).
class MmioAdapter : public Device {
 public:
  explicit MmioAdapter(virtio::MmioTransport* t) : t_(t) {}
  bool read(uint64_t offset, unsigned size, uint64_t* value) override {
    return t_->read(offset, size, value);
  }
  bool write(uint64_t offset, unsigned size, uint64_t value) override {
    return t_->write(offset, size, value);
  }

 private:
  virtio::MmioTransport* t_;
};

uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace

Machine::Machine(MachineConfig config, emulators::Host& host, uint8_t* ram)
    : config_(std::move(config)), host_(host) {
  config_.ram_size = (config_.ram_size + kPage - 1) & ~(kPage - 1);
  if (config_.ports.empty()) config_.ports.push_back({"", true});
  bus_ =
      ram ? std::make_unique<Bus>(ram, config_.ram_size) : std::make_unique<Bus>(config_.ram_size);
}

Machine::~Machine() = default;

uint64_t Machine::ticks() const {
  return tick_base_ + (host_.monotonic_ns() - ns_base_) / 100;
}

bool Machine::build(std::string* error) {
  if (config_.ram_size < (16 << 20)) return *error = "RAM must be at least 16 MiB", false;
  if (config_.ram_size > (uint64_t{1} << 40)) return *error = "RAM must be at most 1 TiB", false;
  if (config_.ports.size() > 31) return *error = "at most 31 console ports", false;
  if (!bus_->ram())
    return *error =
               "cannot allocate " + std::to_string(config_.ram_size >> 20) + " MiB of guest RAM",
           false;
  ns_base_ = host_.monotonic_ns();
  cpu_ = std::make_unique<Cpu>(
      *bus_, [](void* self) { return static_cast<Machine*>(self)->ticks(); }, this);
  cpu_->host_is_machine_mode = true;
  plic_ = std::make_unique<Plic>(
      [this](unsigned context, bool level) { cpu_->set_irq(context == 0 ? kMEI : kSEI, level); });
  rtc_ = std::make_unique<GoldfishRtc>(host_, [this](bool l) { plic_->set_level(kRtcIrq, l); });
  if (!bus_->add_device(kPlicBase, Plic::kWindowSize, plic_.get()) ||
      !bus_->add_device(kRtcBase, GoldfishRtc::kWindowSize, rtc_.get()))
    return *error = "device map overlaps RAM", false;

  console_dev_ = std::make_unique<virtio::Console>(config_.ports);
  port_out_.assign(config_.ports.size(), {});
  marker_tail_.assign(config_.ports.size() + 1, {});
  console_dev_->set_output(
      [this](unsigned port, const uint8_t* d, uint32_t n) { emit(static_cast<int>(port), d, n); },
      [this](unsigned port) -> uint64_t {
        const uint64_t used = port_out_[port].size();
        return used < kOutputCap ? kOutputCap - used : 0;
      });
  std::vector<virtio::Device*> devices = {console_dev_.get()};
  if (config_.rng) {
    rng_dev_ = std::make_unique<virtio::Rng>(
        [this](uint8_t* buf, uint32_t len) { host_.random(buf, len); });
    devices.push_back(rng_dev_.get());
  }
  if (config_.disk) {
    blk_dev_ = std::make_unique<virtio::Blk>(config_.disk);
    devices.push_back(blk_dev_.get());
  }
  for (auto& d : config_.extra_devices) devices.push_back(d.get());
  if (devices.size() > kMaxVirtio) return *error = "too many virtio devices", false;

  const emulators::GuestRam ram{bus_->ram(), Bus::kRamBase, bus_->ram_size()};
  for (size_t i = 0; i < devices.size(); ++i) {
    const unsigned irq = kVirtioIrqBase + static_cast<unsigned>(i);
    virtio_.push_back(std::make_unique<virtio::MmioTransport>(
        devices[i], ram, [this, irq](bool l) { plic_->set_level(irq, l); }));
    adapters_.push_back(std::make_unique<MmioAdapter>(virtio_.back().get()));
    if (!bus_->add_device(kVirtioBase + i * virtio::MmioTransport::kWindowSize,
                          virtio::MmioTransport::kWindowSize, adapters_.back().get()))
      return *error = "device map overlaps RAM", false;
  }
  return true;
}

std::unique_ptr<Machine> Machine::create(MachineConfig config, emulators::Host& host,
                                         std::string* error) {
  std::unique_ptr<Machine> m(new Machine(std::move(config), host, nullptr));
  if (!m->build(error) || !m->load_images(error)) return nullptr;
  return m;
}

bool Machine::load_images(std::string* error) {
  const std::vector<uint8_t>& k = config_.kernel;
  const uint64_t ram_end = Bus::kRamBase + bus_->ram_size();
  if (k.empty()) return *error = "no kernel image", false;
  // A Linux Image header ("RSC\x05" at 56) says how much memory the kernel occupies, bss included.
  uint64_t kernel_size = k.size();
  if (k.size() >= 64 && std::memcmp(&k[56], "RSC\x05", 4) == 0) {
    const uint64_t image_size = le64(&k[16]);
    if (image_size > kernel_size) kernel_size = image_size;
  }
  const uint64_t kernel_end = kKernelBase + kernel_size;
  if (kernel_end > ram_end || kernel_end < kKernelBase)
    return *error = "the kernel does not fit in RAM", false;
  std::memcpy(bus_->ram_ptr(kKernelBase, k.size()), k.data(), k.size());

  // The device tree goes at the top of RAM, the initrd right below it. Their sizes do not
  // depend on the addresses, so a first tree with placeholder addresses gives the layout.
  const bool has_initrd = !config_.initrd.empty();
  const uint64_t fdt_size = make_fdt(has_initrd ? 1 : 0, has_initrd ? 2 : 0).size();
  fdt_addr_ = (ram_end - fdt_size) & ~(kPage - 1);
  uint64_t initrd_start = 0, initrd_end = 0;
  if (has_initrd) {
    const uint64_t n = config_.initrd.size();
    if (n > fdt_addr_ - kernel_end) return *error = "kernel and initrd do not fit in RAM", false;
    initrd_start = (fdt_addr_ - n) & ~(kPage - 1);
    if (initrd_start < kernel_end) return *error = "kernel and initrd do not fit in RAM", false;
    initrd_end = initrd_start + n;
    std::memcpy(bus_->ram_ptr(initrd_start, n), config_.initrd.data(), n);
  }
  fdt_ = make_fdt(initrd_start, initrd_end);
  if (fdt_.empty() || fdt_addr_ < kernel_end) return *error = "no room for the device tree", false;
  std::memcpy(bus_->ram_ptr(fdt_addr_, fdt_.size()), fdt_.data(), fdt_.size());
  // The images live in guest RAM now; keep only what a snapshot needs.
  config_.kernel.clear();
  config_.kernel.shrink_to_fit();
  config_.initrd.clear();
  config_.initrd.shrink_to_fit();
  reset_cpu(fdt_addr_);
  return true;
}

void Machine::reset_cpu(uint64_t fdt_addr) {
  Cpu& c = *cpu_;
  c.x[10] = 0;  // hart id
  c.x[11] = fdt_addr;
  c.pc = kKernelBase;
  c.priv = Priv::kSupervisor;
  c.mstatus = 0;
  // Every delegable exception except S-mode ecalls (SBI calls come to the host); S interrupts.
  c.medeleg = 0xB3FF & ~(uint64_t{1} << kEcallS);
  c.mideleg = uint64_t{1} << kSSI | uint64_t{1} << kSTI | uint64_t{1} << kSEI;
  c.mie = 0;
  // cycle/time/instret (and the zero hpm counters) readable from S and, for rdtime in the
  // vDSO, from U; Sstc (menvcfg.STCE) so Linux programs stimecmp itself.
  c.mcounteren = 0xffffffff;
  c.scounteren = 7;
  c.menvcfg = uint64_t{1} << 63;
  c.satp = 0;
  c.flush_caches();
}

void Machine::emit(int stream, const uint8_t* data, uint64_t len) {
  std::string& out = out_buffer(stream);
  // A guest writing through SBI cannot be paused; cap what a non-draining embedder keeps.
  const uint64_t room = out.size() < kOutputCap * 4 ? kOutputCap * 4 - out.size() : 0;
  out.append(reinterpret_cast<const char*>(data), len < room ? len : room);
  if (out.size() >= kOutputHigh) cpu_->request_exit();
  if (marker_.empty()) return;
  std::string& tail = marker_tail_[static_cast<size_t>(stream + 1)];
  tail.append(reinterpret_cast<const char*>(data), len);
  if (tail.find(marker_) != std::string::npos) {
    marker_hit_ = true;
    tail.clear();
    cpu_->request_exit();
  } else if (tail.size() >= marker_.size()) {
    tail.erase(0, tail.size() - (marker_.size() - 1));
  }
}

std::string& Machine::out_buffer(int stream) {
  return stream < 0 ? console_out_ : port_out_[static_cast<size_t>(stream)];
}

bool Machine::output_full() const {
  if (console_out_.size() >= kOutputHigh) return true;
  for (const std::string& s : port_out_)
    if (s.size() >= kOutputHigh) return true;
  return false;
}

void Machine::set_snapshot_marker(std::string marker) {
  marker_ = std::move(marker);
  for (std::string& t : marker_tail_) t.clear();
  marker_hit_ = false;
}

uint64_t Machine::deadline_ns() {
  uint64_t deadline = UINT64_MAX;
  const uint64_t next = cpu_->next_timer_event();
  if (next != UINT64_MAX) {
    const uint64_t now_ticks = ticks(), now_ns = host_.monotonic_ns();
    const uint64_t wait = next > now_ticks ? next - now_ticks : 0;
    deadline = wait < (UINT64_MAX - now_ns) / 100 ? now_ns + wait * 100 : UINT64_MAX;
  }
  const uint64_t alarm = rtc_->alarm_deadline_ns();
  return alarm < deadline ? alarm : deadline;
}

RunResult Machine::run(uint64_t max_instructions) {
  if (halted_) return {Stop::kHalted};
  if (!error_.empty()) return {Stop::kError};
  rtc_->poll();
  for (auto& t : virtio_) t->poll();
  const uint64_t start = cpu_->cycle;
  for (;;) {
    const uint64_t used = cpu_->cycle - start;
    const Exit e = cpu_->run(used < max_instructions ? max_instructions - used : 0);
    if (e == Exit::kMachineTrap) handle_sbi();
    if (halted_) return {Stop::kHalted};
    if (!error_.empty()) return {Stop::kError};
    if (marker_hit_) {
      marker_hit_ = false;
      return {Stop::kMarker};
    }
    if (output_full()) return {Stop::kOutput};
    if (e == Exit::kWfi) return {Stop::kIdle, deadline_ns()};
    if (e == Exit::kBudget) return {Stop::kBudget};
  }
}

uint64_t Machine::console_input(const uint8_t* data, uint64_t len) {
  if (console_in_pos_ == console_in_.size()) console_in_.clear(), console_in_pos_ = 0;
  const uint64_t pending = console_in_.size() - console_in_pos_;
  const uint64_t room = pending < kConsoleInputCap ? kConsoleInputCap - pending : 0;
  const uint64_t n = len < room ? len : room;
  console_in_.append(reinterpret_cast<const char*>(data), n);
  return n;
}

std::string Machine::take_console_output() {
  std::string out;
  out.swap(console_out_);
  return out;
}

unsigned Machine::num_ports() const {
  return console_dev_->num_ports();
}

uint32_t Machine::port_input(unsigned port, const uint8_t* data, uint32_t len) {
  if (port >= num_ports()) return 0;
  return console_dev_->input(port, data, len);
}

std::string Machine::take_port_output(unsigned port) {
  std::string out;
  if (port < port_out_.size()) out.swap(port_out_[port]);
  // Output paused on a full buffer can continue now.
  virtio_[0]->poll();
  return out;
}

bool Machine::port_guest_open(unsigned port) const {
  return port < num_ports() && console_dev_->guest_open(port);
}

void Machine::set_port_host_open(unsigned port, bool open) {
  if (port < num_ports()) console_dev_->set_host_open(port, open);
}

uint64_t Machine::disk_errors() const {
  return blk_dev_ ? blk_dev_->source_errors() : 0;
}

int Machine::find_port(const std::string& name) const {
  for (unsigned p = 0; p < num_ports(); ++p)
    if (console_dev_->spec(p).name == name) return static_cast<int>(p);
  return -1;
}

}  // namespace c2w::riscv64
