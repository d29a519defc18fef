#include "emulators/common/runner_args.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "base/size.h"

namespace c2w::emulators {

FlagTaken take_machine_flag(int argc, char** argv, int* i, MachineFlags* flags,
                            std::string* error) {
  const std::string flag = argv[*i];
  std::string* text = flag == "--kernel"   ? &flags->kernel
                      : flag == "--initrd" ? &flags->initrd
                      : flag == "--append" ? &flags->append
                      : flag == "--disk"   ? &flags->disk
                                           : nullptr;
  const bool sized = flag == "--memory" || flag == "--timeout";
  if (!text && !sized) return FlagTaken::kNo;
  if (*i + 1 >= argc) {
    *error = "missing value for " + flag;
    return FlagTaken::kBad;
  }
  const std::string value = argv[++*i];
  if (text) {
    *text = value;
  } else if (flag == "--memory") {
    const std::optional<uint64_t> bytes = parse_size(value);
    if (!bytes || *bytes == 0) {
      *error = "bad --memory " + value + " (write it like 256M or 1G)";
      return FlagTaken::kBad;
    }
    flags->memory = *bytes;
  } else {
    char* end = nullptr;
    flags->timeout_s = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end || flags->timeout_s <= 0) {
      *error = "bad --timeout " + value + " (seconds, e.g. 60 or 0.5)";
      return FlagTaken::kBad;
    }
  }
  return FlagTaken::kYes;
}

bool read_whole_file(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

bool read_boot_files(const MachineFlags& flags, std::vector<uint8_t>* kernel,
                     std::vector<uint8_t>* initrd, std::string* error) {
  if (!read_whole_file(flags.kernel, kernel)) {
    *error = "cannot read kernel " + flags.kernel + ": " + std::strerror(errno);
    return false;
  }
  if (!flags.initrd.empty() && !read_whole_file(flags.initrd, initrd)) {
    *error = "cannot read initrd " + flags.initrd + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace c2w::emulators
