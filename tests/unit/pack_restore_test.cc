// The contract between pack and the emulator: a real machine's snapshot, packed into a
// runtime's reserved regions, instantiated (data segments applied to linear memory), restored
// with Machine::restore(state, ram = ram_base) continues exactly like the machine that was
// never stopped.
#include "ops/pack/pack_module.h"
#include "tests/unit/pack_support.h"
#include "tests/unit/riscv64_machine_support.h"

namespace {

using namespace machinetest;

// Scatters pseudo-random doublewords over 2 MiB of RAM and prints a letter every 2048 steps.
std::vector<uint32_t> scribbler() {
  std::vector<uint32_t> p = li(s0, 0x80400000);
  p += li(s2, 0x1234567);
  p += li(t3, 0x5851f42d4c957f2dull);
  const size_t loop = p.size();
  p.push_back(mul(s2, s2, t3));
  p.push_back(addi(s2, s2, 1));
  p.push_back(addi(s1, s1, 1));
  p.push_back(srli(t0, s2, 46));
  p.push_back(slli(t0, t0, 3));
  p.push_back(add(t0, t0, s0));
  p.push_back(sd(s2, t0, 0));
  p.push_back(andi(t0, s1, 0x7ff));
  const size_t skip_at = p.size();
  p.push_back(0);  // bne t0, zero, -> the jump back (patched below)
  p += li(a7, 1);  // SBI legacy console putchar
  p.push_back(srli(a0, s1, 11));
  p.push_back(andi(a0, a0, 15));
  p.push_back(addi(a0, a0, 'A'));
  p.push_back(ecall());
  p[skip_at] = bne(t0, zero, static_cast<int32_t>(4 * (p.size() - skip_at)));
  p.push_back(jal(zero, -static_cast<int32_t>(4 * (p.size() - loop))));
  return p;
}

TEST_F(MachineTest, PackedSnapshotRestoresFromPreloadedRam) {
  constexpr uint64_t kN = 400'001, kM = 300'007;
  const std::vector<uint32_t> code = scribbler();
  auto ref = make(code);
  auto a = make(code);
  ASSERT_TRUE(ref && a);
  ASSERT_EQ(ref->run(kN + kM).stop, Stop::kBudget);
  ASSERT_EQ(a->run(kN).stop, Stop::kBudget);
  std::string ref_out = ref->take_console_output(), split_out = a->take_console_output();
  const std::vector<uint8_t> snap = a->save();

  c2w::pack::PackResult packed;
  std::string err;
  packtest::RuntimeSpec spec;
  spec.ram_capacity = 40 << 20;  // the machine has 32 MiB
  ASSERT_TRUE(c2w::pack::pack(packtest::build_runtime(spec), snap, {}, &packed, &err)) << err;
  const c2w::pack::PackReport& r = packed.report;
  EXPECT_GT(r.pages_stored, 100u);  // the scribbled pages, the kernel, the device tree
  EXPECT_LT(r.state_len, 64u << 10);
  packtest::Image image;
  ASSERT_TRUE(packtest::instantiate(packed.wasm, &image, &err)) << err;
  ASSERT_EQ(r.ram_size, a->ram_size());
  ASSERT_EQ(r.ram_base, spec.ram_base);
  ASSERT_EQ(image.limits.min, spec.memory_pages()) << "the memory is the runtime's, as linked";
  uint8_t* ram = image.memory.data() + r.ram_base;
  ASSERT_EQ(std::memcmp(ram, a->bus().ram(), r.ram_size), 0) << "RAM in the image is the machine's";
  a.reset();

  auto b = Machine::restore(image.memory.data() + r.state_addr, r.state_len, host, &err, {}, ram);
  ASSERT_NE(b, nullptr) << err;
  EXPECT_EQ(b->bus().ram(), ram) << "the restored machine runs on the preloaded RAM";
  ASSERT_EQ(b->run(kM).stop, Stop::kBudget);
  split_out += b->take_console_output();
  ref_out += ref->take_console_output();
  EXPECT_FALSE(ref_out.empty());
  EXPECT_EQ(split_out, ref_out);
  EXPECT_EQ(b->cpu().instret, ref->cpu().instret);
  EXPECT_EQ(b->cpu().pc, ref->cpu().pc);
  EXPECT_EQ(std::memcmp(ram, ref->bus().ram(), r.ram_size), 0);
}

}  // namespace
