// The test fixture shared by the unpack unit tests: a temp work dir with a blob store, unpack
// helpers that check a failed unpack left nothing behind, and manifest lookup.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "ops/unpack/unpack.h"
#include "ownership/manifest.h"
#include "tests/support/process.h"
#include "tests/unit/tar_support.h"

namespace c2w::testing {

namespace fs = std::filesystem;
using namespace c2w::unpack;
using namespace c2w::ownership;

inline constexpr const char* kTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kZstd = "application/vnd.oci.image.layer.v1.tar+zstd";

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Unpack : public ::testing::Test {
 protected:
  // Unpacks layers (each a list of entries, uncompressed) into a fresh dest.
  UnpackResult run(const std::vector<std::vector<TarEntry>>& layers) {
    std::vector<LayerBlob> blobs;
    for (const auto& entries : layers) blobs.push_back(store_blob(blobs_, make_tar(entries), kTar));
    return unpack_layers(blobs, dest_, options());
  }
  UnpackOptions options() {
    UnpackOptions o;
    o.sync = false;
    return o;
  }
  // The error message of unpacking `layers`, after checking nothing was left behind.
  std::string error_of(const std::vector<LayerBlob>& blobs) {
    std::string message;
    try {
      unpack_layers(blobs, dest_, options());
      ADD_FAILURE() << "unpack succeeded";
    } catch (const UnpackError& err) {
      message = err.what();
    }
    std::cout << "  error: " << message << "\n";  // the log shows what users would read
    EXPECT_FALSE(fs::exists(dest_));
    EXPECT_EQ(leftovers(), std::vector<std::string>{}) << "temp dirs left beside dest";
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
    return message;
  }
  std::string error_of(const std::vector<std::vector<TarEntry>>& layers) {
    std::vector<LayerBlob> blobs;
    for (const auto& entries : layers) blobs.push_back(store_blob(blobs_, make_tar(entries), kTar));
    return error_of(blobs);
  }
  std::vector<std::string> leftovers() {
    std::vector<std::string> names;
    for (auto& e : fs::directory_iterator(work_.path()))
      if (e.path().filename() != "blobs" && e.path().filename() != "outside")
        names.push_back(e.path().filename().string());
    return names;
  }
  std::map<std::string, Entry> manifest() {
    std::map<std::string, Entry> m;
    for (Entry& e : read_metadata(dest_ / "metadata.jsonl")) m[e.path] = e;
    return m;
  }
  fs::path root() const { return dest_ / "rootfs"; }

  TempDir work_{"c2w-unpack-test"};
  fs::path blobs_ = work_.path() / "blobs";
  fs::path dest_ = work_.path() / "dest";
};

}  // namespace c2w::testing
