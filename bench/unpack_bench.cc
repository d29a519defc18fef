// Unpack throughput: unpacks an image from an OCI layout into a temp directory a few times and
// prints compressed and uncompressed MB/s per layer and overall. Prints figures; never fails on
// time.   unpack_bench LAYOUT [TAG] [REPEAT]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "ops/unpack/image.h"
#include "ops/unpack/unpack.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: unpack_bench LAYOUT [TAG] [REPEAT]\n");
    return 2;
  }
  try {
    auto layout = c2w::oci::Layout::open(argv[1]);
    std::string tag = argc > 2 ? argv[2] : "latest";
    int repeat = argc > 3 ? std::atoi(argv[3]) : 3;
    auto image = c2w::unpack::load_image_layers(layout, tag);
    fs::path base = fs::temp_directory_path() / ("unpack-bench-" + std::to_string(getpid()));
    fs::create_directories(base);
    for (int run = 0; run < repeat; ++run) {
      fs::path dest = base / ("run" + std::to_string(run));
      c2w::unpack::UnpackOptions options;
      options.sync = false;  // measure unpacking, not the disk's flush
      auto start = std::chrono::steady_clock::now();
      auto result = c2w::unpack::unpack_layers(image.layers, dest, options);
      double total =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      uint64_t in = 0, out = 0;
      for (size_t i = 0; i < result.layers.size(); ++i) {
        const auto& l = result.layers[i];
        in += l.compressed_bytes;
        out += l.uncompressed_bytes;
        std::printf(
            "run %d layer %zu %-5s %8.1f MB -> %8.1f MB %6llu entries %6.3f s  %7.1f MB/s in  "
            "%7.1f MB/s out\n",
            run, i + 1, l.compression.c_str(), l.compressed_bytes / 1e6, l.uncompressed_bytes / 1e6,
            static_cast<unsigned long long>(l.entries), l.seconds,
            l.compressed_bytes / 1e6 / l.seconds, l.uncompressed_bytes / 1e6 / l.seconds);
      }
      std::printf(
          "run %d total %zu entries %.3f s (manifest included)  %.1f MB/s in  %.1f MB/s out\n", run,
          result.entries, total, in / 1e6 / total, out / 1e6 / total);
      fs::remove_all(dest);
    }
    fs::remove_all(base);
  } catch (const std::exception& err) {
    std::fprintf(stderr, "unpack_bench: %s\n", err.what());
    return 1;
  }
  return 0;
}
