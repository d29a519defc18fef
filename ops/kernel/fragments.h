// Kernel config fragments shipped inside c2w (ops/kernel/*.config, embedded at build time), keyed
// "kernel/<arch>.config" as the default recipe names them, so the binary needs no data files.
#pragma once

#include <map>
#include <string>

namespace c2w::kernel {

std::map<std::string, std::string> embedded_fragments();

}  // namespace c2w::kernel
