// What the emulator's command-line runners share (c2w-emu, c2w-vm, `c2w __boot-vm`): the
// machine flags every one of them takes, parsed once here, and reading their input files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace c2w::emulators {

// --kernel FILE, --initrd FILE, --append ARGS, --memory SIZE (base/size.h: 256M, 1G, bytes),
// --timeout SECONDS, --disk FILE (a read-only disk: raw, or a chunked image; open_disk).
struct MachineFlags {
  std::string kernel, initrd, append, disk;
  uint64_t memory = 0;   // 0: not given (the runner's default)
  double timeout_s = 0;  // 0: not given
};

enum class FlagTaken { kNo, kYes, kBad };

// If argv[*i] is one of MachineFlags' flags: consumes it and its value (advancing *i) and
// answers kYes, or kBad with *error saying what is wrong (a missing or bad value). kNo leaves
// everything as it was.
FlagTaken take_machine_flag(int argc, char** argv, int* i, MachineFlags* flags, std::string* error);

// The whole file; false when it cannot be opened or read.
bool read_whole_file(const std::string& path, std::vector<uint8_t>* out);

// Reads flags.kernel and, when given, flags.initrd; false with *error naming the file otherwise.
bool read_boot_files(const MachineFlags& flags, std::vector<uint8_t>* kernel,
                     std::vector<uint8_t>* initrd, std::string* error);

}  // namespace c2w::emulators
