// Recipe -> graph: the frontend's main entry point.
//
// Promise: build_recipe() parses and checks the whole recipe (recipe.h), then builds the ops
// of the target stage and of the stages it depends on, and nothing else: ARGs are
// substituted and files are read (through the FileLoader) only for stages the target needs.
// The returned Definition lists each distinct op once (identical ops, e.g. the same FROM in
// two stages, are one vertex), inputs before users, serialized deterministically, so the same
// recipe, build args and file contents always give byte-identical Definitions.
//
// Ops per stage (inputs in brackets):
//   FROM   -> FetchOp(ref, platform); UnpackOp [fetch]
//   KERNEL -> SourceOp (debian:/http(s) source) or LocalOp (local tarball);
//             KernelOp(arch, fragment text) [source]
//   ROOTFS -> LocalOp per COPY; RootfsOp [unpack, fetch, locals...]
//   BOOT   -> BootOp(memory bytes, append) [kernel, rootfs]
//   PACK   -> PackOp(target) [boot]
// Defaults: FROM without PLATFORM uses linux/riscv64; KERNEL without ARCH uses riscv64.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "c2w/v1/graph.pb.h"
#include "context/loader.h"
#include "frontend/recipe.h"

namespace c2w::frontend {

inline constexpr std::string_view kDefaultPlatform = "linux/riscv64";
inline constexpr std::string_view kDefaultArch = "riscv64";

struct BuildOptions {
  std::map<std::string, std::string> build_args;  // --build-arg NAME=VALUE
  std::string target;                             // --target STAGE; empty: the last stage
};

struct BuildResult {
  c2w::v1::Definition definition;
  // Not fatal, for the caller to print: e.g. --build-arg values no ARG declares.
  std::vector<std::string> warnings;
};

BuildResult build_graph(const Recipe& recipe, context::FileLoader& loader,
                        const BuildOptions& options);

// parse_recipe() + build_graph(). `file` names the recipe in errors and op locations.
BuildResult build_recipe(std::string_view text, const std::string& file,
                         context::FileLoader& loader, const BuildOptions& options);

// Docker-style reference normalization: "busybox" -> "docker.io/library/busybox:latest",
// "ghcr.io/o/r" -> "ghcr.io/o/r:latest"; a digest-pinned ref keeps its digest. References
// with a local transport (oci-layout:, oci-archive:, docker-archive:) are returned as they
// are. Throws std::invalid_argument saying what is wrong.
std::string normalize_image_ref(std::string_view ref);

// A MEMORY size (base/size.h: "256M", "1G", "512MiB", "268435456") in bytes; nullopt for
// anything else, including sizes that are not whole guest pages.
std::optional<uint64_t> parse_memory_size(std::string_view text);

// The range BootOp accepts: enough for a kernel and init, and small enough to sit in
// a wasm32 linear memory (4 GiB) next to the emulator.
inline constexpr uint64_t kMinMemory = 16ull << 20;
inline constexpr uint64_t kMaxMemory = 3ull << 30;

}  // namespace c2w::frontend
