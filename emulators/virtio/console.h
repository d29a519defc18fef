// virtio console (device id 3, virtio spec 1.2 section 5.3) with VIRTIO_CONSOLE_F_MULTIPORT:
// port 0 is a console (an hvc device in Linux), further ports are named serial ports
// (/dev/vportNpM, /sys/class/virtio-ports/vportNpM/name) such as the c2w control channel.
//
// The host side of each port is a non-blocking byte pipe: input() queues bytes for the guest
// (delivered once the guest has the port open, as Linux discards data sent to a closed port),
// and bytes the guest writes go to the output callback as soon as the guest kicks its queue.
// Host memory stays bounded: input is capped per port, output is consumed only while
// output_space() says the embedder can take it, and one guest buffer yields at most
// kMaxChunk bytes (the rest of a hostile oversized buffer is dropped).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "emulators/virtio/device.h"

namespace c2w::virtio {

struct PortSpec {
  std::string name;      // sent as VIRTIO_CONSOLE_PORT_NAME unless empty
  bool console = false;  // sent as VIRTIO_CONSOLE_CONSOLE_PORT (becomes an hvc in Linux)
};

class Console : public Device {
 public:
  static constexpr uint32_t kMaxInput = 1 << 20;
  static constexpr uint32_t kMaxChunk = 1 << 20;

  // Called with bytes the guest wrote to a port.
  using Output = std::function<void(unsigned port, const uint8_t* data, uint32_t len)>;
  // How many bytes the embedder can take on a port right now (0 pauses that port's output).
  using OutputSpace = std::function<uint64_t(unsigned port)>;

  // At least one port; ports[0] is port 0.
  explicit Console(std::vector<PortSpec> ports);

  void set_output(Output out, OutputSpace space) {
    output_ = std::move(out);
    space_ = std::move(space);
  }

  unsigned num_ports() const { return static_cast<unsigned>(ports_.size()); }
  const PortSpec& spec(unsigned port) const { return ports_[port].spec; }
  // Queues bytes for the guest; returns how many were accepted (the rest: try again later).
  uint32_t input(unsigned port, const uint8_t* data, uint32_t len);
  uint64_t input_pending(unsigned port) const { return ports_[port].input.size(); }
  // Whether the guest has the port open (PORT_OPEN from the driver).
  bool guest_open(unsigned port) const { return ports_[port].guest_open; }
  // Tells the guest whether the host end is connected (all ports start connected).
  void set_host_open(unsigned port, bool open);

  uint32_t device_id() const override { return 3; }
  uint64_t features() const override;
  unsigned num_queues() const override { return 2 + 2 * num_ports(); }
  uint32_t config_size() const override { return 12; }
  uint8_t config_read(uint32_t offset) override;
  void config_write(uint32_t offset, uint8_t value) override;
  void reset() override;
  void queue_notify(unsigned q) override;
  void poll() override;
  void save(emulators::ByteWriter& w) const override;
  bool load(emulators::ByteReader& r) override;

 private:
  struct Port {
    PortSpec spec;
    bool ready = false;  // the driver sent PORT_READY
    bool guest_open = false;
    bool host_open = true;
    std::deque<uint8_t> input;
  };
  static unsigned rx_queue(unsigned port) { return port == 0 ? 0 : 2 + 2 * port; }
  static unsigned tx_queue(unsigned port) { return rx_queue(port) + 1; }
  static constexpr unsigned kControlRx = 2, kControlTx = 3;

  void send_control(uint32_t id, uint16_t event, uint16_t value, const std::string& payload = {});
  void handle_control(const uint8_t* msg, uint32_t len);
  void drain_control_tx();
  void fill_control_rx();
  void drain_tx(unsigned port);
  void fill_rx(unsigned port);
  bool multiport() const;

  std::vector<Port> ports_;
  std::deque<std::vector<uint8_t>> control_out_;
  Output output_;
  OutputSpace space_;
  Chain chain_;  // reused to avoid an allocation per request
  std::vector<uint8_t> buf_;
};

}  // namespace c2w::virtio
