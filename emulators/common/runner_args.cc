#include "emulators/common/runner_args.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace c2w::emu {

bool read_whole_file(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return !f.bad();
}

bool parse_size(const std::string& text, uint64_t* bytes) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str()) return false;
  const std::string suffix(end);
  unsigned shift = 0;
  if (suffix == "K" || suffix == "k")
    shift = 10;
  else if (suffix == "M" || suffix == "m")
    shift = 20;
  else if (suffix == "G" || suffix == "g")
    shift = 30;
  else if (!suffix.empty())
    return false;
  if (shift && v > (UINT64_MAX >> shift)) return false;
  *bytes = static_cast<uint64_t>(v) << shift;
  return true;
}

}  // namespace c2w::emu
