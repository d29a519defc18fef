#include "emulators/virtio/console.h"

#include <utility>

namespace c2w::virtio {
namespace {

constexpr uint64_t kFeatureMultiport = uint64_t{1} << 1;
constexpr uint64_t kFeatureEmergWrite = uint64_t{1} << 2;

enum : uint16_t {
  kDeviceReady = 0,
  kDeviceAdd = 1,
  kPortReady = 3,
  kConsolePort = 4,
  kPortOpen = 6,
  kPortName = 7,
};

constexpr uint32_t kControlHeader = 8;  // le32 id, le16 event, le16 value
// Bound on queued control messages: the device creates a few per port per driver event, so
// only a driver that never consumes them (while repeating DEVICE_READY) reaches it.
constexpr size_t kMaxControlOut = 1024;

}  // namespace

Console::Console(std::vector<PortSpec> ports) {
  if (ports.empty()) ports.push_back({"", true});
  for (PortSpec& s : ports) ports_.push_back(Port{std::move(s), false, false, true, {}});
}

uint64_t Console::features() const {
  return kFeatureMultiport | kFeatureEmergWrite;
}

bool Console::multiport() const {
  return transport_->driver_features() & kFeatureMultiport;
}

uint8_t Console::config_read(uint32_t offset) {
  // struct virtio_console_config { le16 cols; le16 rows; le32 max_nr_ports; le32 emerg_wr; }
  if (offset >= 4 && offset < 8) return static_cast<uint8_t>(num_ports() >> (8 * (offset - 4)));
  return 0;
}

void Console::config_write(uint32_t offset, uint8_t value) {
  // Emergency write: the low byte of emerg_wr is one character for port 0.
  if (offset == 8 && (transport_->driver_features() & kFeatureEmergWrite) && output_)
    output_(0, &value, 1);
}

uint32_t Console::input(unsigned port, const uint8_t* data, uint32_t len) {
  if (port >= ports_.size()) return 0;
  std::deque<uint8_t>& in = ports_[port].input;
  const uint64_t room = kMaxInput - in.size();
  const uint32_t n = len < room ? len : static_cast<uint32_t>(room);
  in.insert(in.end(), data, data + n);
  if (transport_->driver_ok()) fill_rx(port);
  return n;
}

void Console::set_host_open(unsigned port, bool open) {
  if (port >= ports_.size() || ports_[port].host_open == open) return;
  ports_[port].host_open = open;
  if (transport_->driver_ok() && multiport() && ports_[port].ready) {
    send_control(port, kPortOpen, open ? 1 : 0);
    fill_control_rx();
  }
}

void Console::reset() {
  for (Port& p : ports_) p.ready = p.guest_open = false;
  control_out_.clear();
}

void Console::queue_notify(unsigned q) {
  if (q == kControlRx) return fill_control_rx();
  if (q == kControlTx) return drain_control_tx();
  const unsigned port = q < 2 ? 0 : (q - 2) / 2;
  if (port >= ports_.size()) return;
  if (q == tx_queue(port))
    drain_tx(port);
  else
    fill_rx(port);
}

void Console::poll() {
  fill_control_rx();
  for (unsigned p = 0; p < ports_.size(); ++p) {
    fill_rx(p);
    drain_tx(p);
  }
}

void Console::send_control(uint32_t id, uint16_t event, uint16_t value,
                           const std::string& payload) {
  if (control_out_.size() >= kMaxControlOut) return;
  std::vector<uint8_t> m(kControlHeader + payload.size());
  for (int i = 0; i < 4; ++i) m[i] = static_cast<uint8_t>(id >> (8 * i));
  m[4] = static_cast<uint8_t>(event), m[5] = static_cast<uint8_t>(event >> 8);
  m[6] = static_cast<uint8_t>(value), m[7] = static_cast<uint8_t>(value >> 8);
  for (size_t i = 0; i < payload.size(); ++i)
    m[kControlHeader + i] = static_cast<uint8_t>(payload[i]);
  control_out_.push_back(std::move(m));
}

void Console::handle_control(const uint8_t* msg, uint32_t len) {
  if (len < kControlHeader) return;
  const uint32_t id = msg[0] | msg[1] << 8 | msg[2] << 16 | uint32_t{msg[3]} << 24;
  const auto event = static_cast<uint16_t>(msg[4] | msg[5] << 8);
  const auto value = static_cast<uint16_t>(msg[6] | msg[7] << 8);
  if (event == kDeviceReady) {
    if (value != 1) return;  // the driver failed to set up
    for (uint32_t p = 0; p < ports_.size(); ++p) send_control(p, kDeviceAdd, 1);
    return;
  }
  if (id >= ports_.size()) return;
  Port& port = ports_[id];
  switch (event) {
    case kPortReady:
      port.ready = value == 1;
      if (!port.ready) break;
      if (port.spec.console) send_control(id, kConsolePort, 1);
      if (!port.spec.name.empty()) send_control(id, kPortName, 1, port.spec.name);
      if (port.host_open) send_control(id, kPortOpen, 1);
      break;
    case kPortOpen:
      port.guest_open = value == 1;
      if (port.guest_open) fill_rx(id);
      break;
    default:
      break;  // resize and unknown events carry nothing a host needs
  }
}

void Console::drain_control_tx() {
  const emulators::GuestRam& ram = transport_->ram();
  Virtqueue& q = transport_->queue(kControlTx);
  bool used = false;
  uint8_t msg[kControlHeader];
  while (q.pop(ram, &chain_) == Virtqueue::Pop::kChain) {
    const auto n = static_cast<uint32_t>(chain_.read(ram, 0, msg, sizeof msg));
    handle_control(msg, n);
    q.push(ram, chain_.head, 0);
    used = true;
  }
  if (used) transport_->notify_used(kControlTx);
  fill_control_rx();
}

void Console::fill_control_rx() {
  if (!transport_->driver_ok()) return;
  const emulators::GuestRam& ram = transport_->ram();
  Virtqueue& q = transport_->queue(kControlRx);
  bool used = false;
  while (!control_out_.empty() && q.pop(ram, &chain_) == Virtqueue::Pop::kChain) {
    const std::vector<uint8_t>& m = control_out_.front();
    const auto n = static_cast<uint32_t>(chain_.write(ram, 0, m.data(), m.size()));
    q.push(ram, chain_.head, n);
    control_out_.pop_front();
    used = true;
  }
  if (used) transport_->notify_used(kControlRx);
}

void Console::fill_rx(unsigned port) {
  Port& p = ports_[port];
  if (!transport_->driver_ok() || p.input.empty()) return;
  // Without multiport port 0 is a plain console that is always open.
  if (multiport() ? !p.guest_open : port != 0) return;
  const emulators::GuestRam& ram = transport_->ram();
  Virtqueue& q = transport_->queue(rx_queue(port));
  bool used = false;
  while (!p.input.empty() && q.pop(ram, &chain_) == Virtqueue::Pop::kChain) {
    uint64_t n = chain_.writable_len < p.input.size() ? chain_.writable_len : p.input.size();
    if (n > kMaxChunk) n = kMaxChunk;
    buf_.assign(p.input.begin(), p.input.begin() + static_cast<std::ptrdiff_t>(n));
    n = chain_.write(ram, 0, buf_.data(), n);
    p.input.erase(p.input.begin(), p.input.begin() + static_cast<std::ptrdiff_t>(n));
    q.push(ram, chain_.head, static_cast<uint32_t>(n));
    used = true;
  }
  if (used) transport_->notify_used(rx_queue(port));
}

void Console::drain_tx(unsigned port) {
  if (!transport_->driver_ok() || (port != 0 && !multiport())) return;
  const emulators::GuestRam& ram = transport_->ram();
  Virtqueue& q = transport_->queue(tx_queue(port));
  bool used = false;
  while ((!space_ || space_(port) > 0) && q.pop(ram, &chain_) == Virtqueue::Pop::kChain) {
    const uint64_t n = chain_.readable_len < kMaxChunk ? chain_.readable_len : kMaxChunk;
    buf_.resize(n);
    const auto got = static_cast<uint32_t>(chain_.read(ram, 0, buf_.data(), n));
    if (output_ && got) output_(port, buf_.data(), got);
    q.push(ram, chain_.head, 0);
    used = true;
  }
  if (used) transport_->notify_used(tx_queue(port));
}

void Console::save(emulators::ByteWriter& w) const {
  w.u32(num_ports());
  for (const Port& p : ports_) {
    w.str(p.spec.name);
    w.boolean(p.spec.console);
    w.boolean(p.ready);
    w.boolean(p.guest_open);
    w.boolean(p.host_open);
    w.u32(static_cast<uint32_t>(p.input.size()));
    for (uint8_t b : p.input) w.u8(b);
  }
  w.u32(static_cast<uint32_t>(control_out_.size()));
  for (const std::vector<uint8_t>& m : control_out_) {
    w.u32(static_cast<uint32_t>(m.size()));
    w.bytes(m.data(), m.size());
  }
}

bool Console::load(emulators::ByteReader& r) {
  if (r.u32() != ports_.size()) return false;
  for (Port& p : ports_) {
    if (r.str(4096) != p.spec.name || r.boolean() != p.spec.console) return false;
    p.ready = r.boolean();
    p.guest_open = r.boolean();
    p.host_open = r.boolean();
    const uint32_t n = r.u32();
    if (n > kMaxInput) return false;
    const uint8_t* bytes = r.view(n);
    if (!bytes) return false;
    p.input.assign(bytes, bytes + n);
  }
  const uint32_t count = r.u32();
  if (count > kMaxControlOut) return false;
  control_out_.clear();
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t n = r.u32();
    const uint8_t* bytes = r.view(n > 4096 + kControlHeader ? ~uint64_t{0} : n);
    if (!bytes) return false;
    control_out_.emplace_back(bytes, bytes + n);
  }
  return r.ok();
}

}  // namespace c2w::virtio
