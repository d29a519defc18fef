// A recipe directory whose ROOTFS stage COPYs local files, for tests of COPY in process and
// through a builder: app/run (0755), app/lib/x, motd, and `recipe` (FROM ${IMAGE}, then
// COPY app /opt/app and COPY motd /etc/). Header-only.
#pragma once

#include <filesystem>
#include <fstream>

namespace c2w::testing {

inline void make_copy_context(const std::filesystem::path& ctx) {
  namespace fs = std::filesystem;
  fs::create_directories(ctx / "app" / "lib");
  std::ofstream(ctx / "app" / "run") << "#!/bin/sh\necho run\n";
  fs::permissions(ctx / "app" / "run", fs::perms(0755));
  std::ofstream(ctx / "app" / "lib" / "x") << "library";
  std::ofstream(ctx / "motd") << "welcome\n";
  std::ofstream(ctx / "recipe") << "ARG IMAGE\nFROM ${IMAGE} AS image\nROOTFS image AS rootfs\n"
                                   "  COPY app /opt/app\n  COPY motd /etc/\n";
}

}  // namespace c2w::testing
