// A platform-level interrupt controller as Linux's sifive-plic driver programs it ("riscv,plic0"
// / "sifive,plic-1.0.0"): per-source priorities, per-context enable bits and thresholds, and
// claim/complete. Sources are level-triggered: a source is pending while its line is high and
// it is not claimed; completing a source whose line is still high makes it pending again.
//
// Context 0 is the hart's M-mode external interrupt (MEIP), context 1 its S-mode one (SEIP).
// Only aligned 32-bit accesses are accepted.
#pragma once

#include <cstdint>
#include <functional>

#include "emulators/common/byte_io.h"
#include "emulators/riscv64/bus.h"

namespace c2w::riscv64 {

class Plic : public Device {
 public:
  static constexpr unsigned kSources = 32;  // source 0 does not exist; 1..31 are usable
  static constexpr unsigned kContexts = 2;
  static constexpr uint64_t kWindowSize = 0x400000;

  // `out(context, level)` drives the hart's external interrupt lines.
  explicit Plic(std::function<void(unsigned context, bool level)> out) : out_(std::move(out)) {}

  // A device's interrupt line (source 1..31).
  void set_level(unsigned source, bool level);

  bool read(uint64_t offset, unsigned size, uint64_t* value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

  void save(emulators::ByteWriter& w) const;
  bool load(emulators::ByteReader& r);

 private:
  uint32_t claim(unsigned context);
  void complete(unsigned context, uint32_t source);
  void update();

  std::function<void(unsigned, bool)> out_;
  uint32_t priority_[kSources] = {};
  uint32_t level_ = 0;    // device lines
  uint32_t pending_ = 0;  // gateway output
  uint32_t claimed_ = 0;  // in service (claimed, not yet completed)
  uint32_t enable_[kContexts] = {};
  uint32_t threshold_[kContexts] = {};
};

}  // namespace c2w::riscv64
