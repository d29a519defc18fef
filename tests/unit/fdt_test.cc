// The FDT writer against its own reader and against dtc (device-tree-compiler), and the reader
// against malformed blobs.
#include "emulators/common/fdt.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/support/process.h"

namespace {

using c2w::emulators::Fdt;
using c2w::emulators::fdt_parse;
using c2w::emulators::FdtWriter;

std::vector<uint8_t> sample() {
  FdtWriter w;
  w.add_reservation(0x80000000, 0x1000);
  w.begin_node("");
  w.prop_u32("#address-cells", 2);
  w.prop_str("model", "test board");
  w.begin_node("chosen");
  w.prop_str("bootargs", "console=hvc0 earlycon=sbi");
  w.prop_u64("linux,initrd-start", 0x8f000000);
  w.end_node();
  w.begin_node("soc");
  w.prop_strs("compatible", {"sifive,plic-1.0.0", "riscv,plic0"});
  w.prop_empty("interrupt-controller");
  w.prop_cells("reg", {0, 0xc000000, 0, 0x400000});
  w.begin_node("virtio_mmio@10001000");
  w.prop_u32("#address-cells", 0);  // a name repeated: the strings block keeps one copy
  w.end_node();
  w.end_node();
  w.end_node();
  return w.finish();
}

TEST(Fdt, RoundTrip) {
  const std::vector<uint8_t> blob = sample();
  ASSERT_FALSE(blob.empty());
  Fdt fdt;
  std::string err;
  ASSERT_TRUE(fdt_parse(blob.data(), blob.size(), &fdt, &err)) << err;
  EXPECT_EQ(fdt.version, 17u);
  ASSERT_EQ(fdt.reservations.size(), 1u);
  EXPECT_EQ(fdt.reservations[0].first, 0x80000000u);
  EXPECT_EQ(fdt.root.name, "");
  EXPECT_EQ(fdt.root.prop_str("model"), "test board");
  const auto* chosen = fdt.root.child("chosen");
  ASSERT_NE(chosen, nullptr);
  EXPECT_EQ(chosen->prop_str("bootargs"), "console=hvc0 earlycon=sbi");
  uint64_t start = 0;
  ASSERT_TRUE(chosen->prop_u64("linux,initrd-start", &start));
  EXPECT_EQ(start, 0x8f000000u);
  const auto* soc = fdt.root.child("soc");
  ASSERT_NE(soc, nullptr);
  const auto* compat = soc->prop("compatible");
  ASSERT_NE(compat, nullptr);
  EXPECT_EQ(std::string(compat->begin(), compat->end()),
            std::string("sifive,plic-1.0.0\0riscv,plic0\0", 30));
  ASSERT_NE(soc->prop("interrupt-controller"), nullptr);
  EXPECT_TRUE(soc->prop("interrupt-controller")->empty());
  ASSERT_NE(soc->child("virtio_mmio@10001000"), nullptr);
  uint32_t cells = 9;
  EXPECT_TRUE(soc->child("virtio_mmio@10001000")->prop_u32("#address-cells", &cells));
  EXPECT_EQ(cells, 0u);
  // The strings block holds "#address-cells" once.
  const std::string raw(blob.begin(), blob.end());
  EXPECT_EQ(raw.find("#address-cells"), raw.rfind("#address-cells"));
}

TEST(Fdt, UnbalancedNodesGiveNoBlob) {
  FdtWriter w;
  w.begin_node("");
  EXPECT_TRUE(w.finish().empty());
  FdtWriter w2;
  w2.end_node();
  EXPECT_TRUE(w2.finish().empty());
}

TEST(Fdt, ReaderRejectsEveryTruncationAndCorruption) {
  const std::vector<uint8_t> blob = sample();
  Fdt fdt;
  std::string err;
  for (size_t n = 0; n < blob.size(); ++n) {
    Fdt f;
    EXPECT_FALSE(fdt_parse(blob.data(), n, &f, &err)) << n;
  }
  // Flipping bytes must never crash the reader (results may be accepted or rejected).
  for (size_t i = 0; i < blob.size(); ++i) {
    std::vector<uint8_t> bad = blob;
    bad[i] ^= 0xff;
    Fdt f;
    fdt_parse(bad.data(), bad.size(), &f, &err);
  }
  std::vector<uint8_t> bad_magic = blob;
  bad_magic[0] = 0;
  EXPECT_FALSE(fdt_parse(bad_magic.data(), bad_magic.size(), &fdt, &err));
  EXPECT_EQ(err, "bad magic");
}

TEST(Fdt, DtcDecodesIt) {
  if (std::system("command -v dtc >/dev/null 2>&1") != 0)
    GTEST_FAIL() << "dtc not installed (scripts/setup installs device-tree-compiler)";
  const std::vector<uint8_t> blob = sample();
  const std::string path = testing::TempDir() + "/c2w_fdt_test.dtb";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(blob.data()), static_cast<std::streamsize>(blob.size()));
  const auto r = c2w::testing::run_command({"dtc", "-q", "-I", "dtb", "-O", "dts", path});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("bootargs = \"console=hvc0 earlycon=sbi\";"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("compatible = \"sifive,plic-1.0.0\\0riscv,plic0\";"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("reg = <0x00 0xc000000 0x00 0x400000>;"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("/memreserve/\t0x0000000080000000 0x0000000000001000;"),
            std::string::npos)
      << r.output;
}

}  // namespace
