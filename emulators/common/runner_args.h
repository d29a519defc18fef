// Small pieces the emulator's command-line runners share (c2w-emu, c2w-vm, `c2w __boot-vm`):
// reading a whole input file and memory sizes written like "256M".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace c2w::emu {

// The whole file; false when it cannot be opened or read.
bool read_whole_file(const std::string& path, std::vector<uint8_t>* out);

// "268435456", "256M", "256m", "1G", "64K": bytes; false on anything else (or an overflow).
bool parse_size(const std::string& text, uint64_t* bytes);

}  // namespace c2w::emu
