// Compares an unpacked or exported rootfs (DIR/rootfs + DIR/metadata.jsonl, the unpack op's
// layout) with an expected tree made as root (the fixtures' rootfs dirs): names, types, file
// contents, link targets and hard links on disk; modes, owners, device numbers, xattrs and
// mtimes in the manifest. Reports differences as GoogleTest failures (at most 20 listed).
#pragma once

#include <filesystem>
#include <string>

namespace c2w::testing {

void expect_same_tree(const std::filesystem::path& expected, const std::filesystem::path& dest);

// The whole content of a file (empty when unreadable).
std::string slurp(const std::filesystem::path& path);

}  // namespace c2w::testing
