#include "emulators/riscv64/plic.h"

namespace c2w::riscv64 {
namespace {

constexpr uint64_t kPending = 0x1000;
constexpr uint64_t kEnable = 0x2000, kEnableStride = 0x80;
constexpr uint64_t kContext = 0x200000, kContextStride = 0x1000;
constexpr uint32_t kValidSources = ~uint32_t{1};  // bit 0 (source 0) never pends
constexpr uint32_t kMaxPriority = 7;

}  // namespace

void Plic::set_level(unsigned source, bool level) {
  if (source == 0 || source >= kSources) return;
  const uint32_t bit = uint32_t{1} << source;
  level_ = level ? level_ | bit : level_ & ~bit;
  // While a source is in service its gateway holds further requests back.
  if (!(claimed_ & bit)) pending_ = level ? pending_ | bit : pending_ & ~bit;
  update();
}

uint32_t Plic::claim(unsigned context) {
  uint32_t best = 0, best_prio = threshold_[context];
  const uint32_t candidates = pending_ & enable_[context];
  for (unsigned s = 1; s < kSources; ++s)
    if ((candidates >> s & 1) && priority_[s] > best_prio) best = s, best_prio = priority_[s];
  if (best) {
    pending_ &= ~(uint32_t{1} << best);
    claimed_ |= uint32_t{1} << best;
    update();
  }
  return best;
}

void Plic::complete(unsigned /*context*/, uint32_t source) {
  // Linux completes a source whose enable bit it has just cleared (plic_irq_eoi), so the
  // enable bit is not checked here.
  if (source == 0 || source >= kSources) return;
  const uint32_t bit = uint32_t{1} << source;
  claimed_ &= ~bit;
  if (level_ & bit) pending_ |= bit;
  update();
}

void Plic::update() {
  for (unsigned c = 0; c < kContexts; ++c) {
    bool fire = false;
    const uint32_t candidates = pending_ & enable_[c];
    for (unsigned s = 1; s < kSources && !fire; ++s)
      fire = (candidates >> s & 1) && priority_[s] > threshold_[c];
    out_(c, fire);
  }
}

bool Plic::read(uint64_t offset, unsigned size, uint64_t* value) {
  if (size != 4 || offset % 4) return false;
  uint32_t v = 0;
  if (offset < kPending) {
    const uint64_t s = offset / 4;
    v = s < kSources ? priority_[s] : 0;
  } else if (offset < kEnable) {
    v = offset == kPending ? pending_ : 0;
  } else if (offset < kContext) {
    const uint64_t c = (offset - kEnable) / kEnableStride,
                   word = (offset - kEnable) % kEnableStride;
    v = c < kContexts && word == 0 ? enable_[c] : 0;
  } else {
    const uint64_t c = (offset - kContext) / kContextStride,
                   reg = (offset - kContext) % kContextStride;
    if (c < kContexts && reg == 0) v = threshold_[c];
    if (c < kContexts && reg == 4) v = claim(static_cast<unsigned>(c));
  }
  *value = v;
  return true;
}

bool Plic::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4 || offset % 4) return false;
  const auto v = static_cast<uint32_t>(value);
  if (offset < kPending) {
    const uint64_t s = offset / 4;
    if (s > 0 && s < kSources) priority_[s] = v & kMaxPriority;
  } else if (offset < kEnable) {
    // pending bits are read-only
  } else if (offset < kContext) {
    const uint64_t c = (offset - kEnable) / kEnableStride,
                   word = (offset - kEnable) % kEnableStride;
    if (c < kContexts && word == 0) enable_[c] = v & kValidSources;
  } else {
    const uint64_t c = (offset - kContext) / kContextStride,
                   reg = (offset - kContext) % kContextStride;
    if (c < kContexts && reg == 0) threshold_[c] = v & kMaxPriority;
    if (c < kContexts && reg == 4) complete(static_cast<unsigned>(c), v);
  }
  update();
  return true;
}

void Plic::save(emulators::ByteWriter& w) const {
  w.u32(kSources);
  for (uint32_t p : priority_) w.u32(p);
  w.u32(level_);
  w.u32(pending_);
  w.u32(claimed_);
  w.u32(kContexts);
  for (unsigned c = 0; c < kContexts; ++c) {
    w.u32(enable_[c]);
    w.u32(threshold_[c]);
  }
}

bool Plic::load(emulators::ByteReader& r) {
  if (r.u32() != kSources) return false;
  for (uint32_t& p : priority_) p = r.u32() & kMaxPriority;
  level_ = r.u32();
  pending_ = r.u32() & kValidSources;
  claimed_ = r.u32();
  if (r.u32() != kContexts) return false;
  for (unsigned c = 0; c < kContexts; ++c) {
    enable_[c] = r.u32() & kValidSources;
    threshold_[c] = r.u32() & kMaxPriority;
  }
  if (!r.ok()) return false;
  update();
  return true;
}

}  // namespace c2w::riscv64
