// c2w: container image -> WebAssembly module. Parses flags and runs the command.
#include <cstdio>
#include <exception>
#include <string_view>

#include "base/error.h"
#include "client/commands.h"
#include "client/options.h"
#include "runtime/boot.h"

int main(int argc, char** argv) {
  // The boot op runs the emulator in a child of this same program.
  if (argc > 1 && std::string_view(argv[1]) == "__boot-vm")
    return c2w::runtime::boot_vm_main(argc - 1, argv + 1);
  try {
    return c2w::client::run_command(c2w::client::parse_options(argc, argv));
  } catch (const c2w::client::UsageError& e) {
    std::fprintf(stderr, "c2w: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
    std::fprintf(stderr, "usage: c2w [options] IMAGE [OUTPUT]   (c2w --help for more)\n");
    return 2;
  } catch (const c2w::Cancelled&) {
    std::fprintf(stderr, "c2w: cancelled; finished steps stay cached, run again to resume\n");
    return 130;
  } catch (const c2w::Error& e) {
    std::fprintf(stderr, "c2w: error: %s\n", e.what());
    if (!e.hint().empty()) std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "c2w: error: %s\n", e.what());
    return 1;
  }
}
