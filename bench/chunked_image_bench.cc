// Chunked disk images (emulators/common/chunked_image.h): compression ratio, conversion time and
// decode speed. Prints figures; never passes or fails on time. Built natively and for wasm32
// (run the .wasm with tools/c2w-run.mjs --dir DIR, `read` only).
//
//   chunked_image_bench read IMAGE                  decode speed of a chunked image
//   chunked_image_bench convert RAW OUT [CHUNK [LEVEL]]   native: write a chunked image
//   chunked_image_bench sweep RAW [CHUNK,... [LEVEL,...]]  native: the table for choosing
//
// `read` figures: sequential (the whole image in 1 MiB reads, chunk-aligned so chunks decode
// straight into the buffer), and random 4 KiB reads at seeded offsets (each a cache miss
// unless the image is small: the cost of one chunk decode plus its checksum). Each figure is
// the best of three runs.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "emulators/common/block_source.h"
#include "emulators/common/chunked_image.h"
#ifndef __wasi__
#include <fcntl.h>
#include <unistd.h>

#include "emulators/common/chunked_image_writer.h"
#endif

namespace {

using c2w::emulators::BlockSource;
using c2w::emulators::ChunkedImage;

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

int fail(const std::string& why) {
  std::fprintf(stderr, "chunked_image_bench: %s\n", why.c_str());
  return 1;
}

// Decode figures for an open image, each the best of kRuns (the machine may be shared); returns
// false on a read failure.
bool measure_reads(ChunkedImage& img, const char* label) {
  constexpr int kRuns = 3, kRandom = 1000;
  const uint64_t size = img.size();
  std::vector<uint8_t> buf(1 << 20);
  uint64_t sum = 0;
  double seq = 1e30, rnd = 1e30;
  for (int run = 0; run < kRuns; ++run) {
    double t0 = now();
    for (uint64_t off = 0; off < size; off += buf.size()) {
      const uint64_t n = size - off < buf.size() ? size - off : buf.size();
      if (!img.read(off, buf.data(), n)) return fail(img.error()), false;
      sum += buf[0];
    }
    const double t = now() - t0;
    seq = t < seq ? t : seq;
    uint64_t state = 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(run);
    t0 = now();
    for (int i = 0; i < kRandom && size >= 4096; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const uint64_t off = ((state >> 11) % (size / 4096)) * 4096;
      if (!img.read(off, buf.data(), 4096)) return fail(img.error()), false;
      sum += buf[0];
    }
    const double r = now() - t0;
    rnd = r < rnd ? r : rnd;
  }
  std::printf(
      "%s: %.1f MiB in %llu chunks of %u KiB: sequential %.0f MiB/s, random 4 KiB %.1f us/read"
      " [%llu]\n",
      label, static_cast<double>(size) / (1 << 20),
      static_cast<unsigned long long>(img.chunk_count()), img.chunk_size() >> 10,
      static_cast<double>(size) / (1 << 20) / seq, rnd / kRandom * 1e6,
      static_cast<unsigned long long>(sum & 0xff));
  return true;
}

int cmd_read(const char* path) {
  std::string error;
  auto file = c2w::emulators::FileSource::open(path, &error);
  if (!file) return fail(error);
  const uint64_t file_size = file->size();
  auto img = ChunkedImage::open(std::move(file), &error);
  if (!img) return fail(std::string(path) + ": " + error);
  std::printf("file %.1f MiB, ratio %.3f\n", static_cast<double>(file_size) / (1 << 20),
              static_cast<double>(file_size) / static_cast<double>(img->size()));
#ifdef __wasi__
  return measure_reads(*img, "wasm32") ? 0 : 1;
#else
  return measure_reads(*img, "native") ? 0 : 1;
#endif
}

#ifndef __wasi__
std::vector<uint32_t> parse_list(const char* s) {
  std::vector<uint32_t> v;
  for (const char* p = s; *p;) {
    char* end;
    v.push_back(static_cast<uint32_t>(std::strtoul(p, &end, 0)));
    p = *end ? end + 1 : end;
  }
  return v;
}

int cmd_convert(const char* raw_path, const char* out, const char* chunk, const char* level) {
  std::string error;
  auto raw = c2w::emulators::FileSource::open(raw_path, &error);
  if (!raw) return fail(error);
  c2w::emulators::ChunkedImageOptions o;
  if (chunk) o.chunk_size = static_cast<uint32_t>(std::strtoul(chunk, nullptr, 0));
  if (level) o.level = std::atoi(level);
  const int fd = ::open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return fail(std::string(out) + ": " + std::strerror(errno));
  c2w::emulators::ChunkedImageStats st;
  const double t0 = now();
  const bool ok = c2w::emulators::write_chunked_image(*raw, fd, o, &error, &st);
  ::close(fd);
  if (!ok) return fail(error);
  std::printf("%s: %llu chunks (%llu zstd, %llu raw, %llu zero), ratio %.3f, %.1f MiB/s\n", out,
              static_cast<unsigned long long>(st.chunks),
              static_cast<unsigned long long>(st.zstd_chunks),
              static_cast<unsigned long long>(st.raw_chunks),
              static_cast<unsigned long long>(st.zero_chunks),
              static_cast<double>(st.file_size) / static_cast<double>(st.image_size),
              static_cast<double>(st.image_size) / (1 << 20) / (now() - t0));
  return 0;
}

int cmd_sweep(const char* raw_path, const char* chunks, const char* levels) {
  std::string error;
  auto raw = c2w::emulators::FileSource::open(raw_path, &error);
  if (!raw) return fail(error);
  for (uint32_t cs : parse_list(chunks ? chunks : "65536,131072,262144,524288,1048576")) {
    for (uint32_t level : parse_list(levels ? levels : "3,9,19")) {
      c2w::emulators::ChunkedImageOptions o;
      o.chunk_size = cs;
      o.level = static_cast<int>(level);
      auto out = std::make_unique<std::vector<uint8_t>>();
      const double t0 = now();
      if (!c2w::emulators::build_chunked_image(*raw, o, out.get(), &error)) return fail(error);
      const double t = now() - t0;
      std::printf("chunk %4u KiB level %2u: ratio %.3f, convert %.1f MiB/s\n", cs >> 10, level,
                  static_cast<double>(out->size()) / static_cast<double>(raw->size()),
                  static_cast<double>(raw->size()) / (1 << 20) / t);
      auto img = ChunkedImage::open(
          std::make_unique<c2w::emulators::MemorySource>(out->data(), out->size()), &error);
      if (!img) return fail(error);
      if (!measure_reads(*img, "  native")) return 1;
    }
  }
  return 0;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "read" && argc == 3) return cmd_read(argv[2]);
#ifndef __wasi__
  if (cmd == "convert" && argc >= 4 && argc <= 6)
    return cmd_convert(argv[2], argv[3], argc > 4 ? argv[4] : nullptr,
                       argc > 5 ? argv[5] : nullptr);
  if (cmd == "sweep" && argc >= 3 && argc <= 5)
    return cmd_sweep(argv[2], argc > 3 ? argv[3] : nullptr, argc > 4 ? argv[4] : nullptr);
#endif
  std::fprintf(stderr,
               "usage: chunked_image_bench read IMAGE\n"
               "       chunked_image_bench convert RAW OUT [CHUNK [LEVEL]]   (native)\n"
               "       chunked_image_bench sweep RAW [CHUNK,... [LEVEL,...]]  (native)\n");
  return 2;
}
