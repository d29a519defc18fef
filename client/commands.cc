#include "client/commands.h"

#include <cstdio>

#include "cache/store.h"
#include "client/browser.h"
#include "client/convert.h"
#include "client/progress_printer.h"
#include "frontend/frontend.h"

namespace c2w::client {

namespace {

namespace fs = std::filesystem;
int du(const Options& o) {
  cache::Store store(cache::Store::root_or_default(o.cache_dir));
  uint64_t total = 0;
  std::printf("%-8s %-24s %10s  %s\n", "KIND", "ID", "SIZE", "DESCRIPTION");
  for (const auto& e : store.usage()) {
    total += e.size;
    std::printf("%-8s %-24s %10s  %s\n", e.kind.c_str(), e.id.substr(0, 24).c_str(),
                human_bytes(static_cast<int64_t>(e.size)).c_str(), e.description.c_str());
  }
  std::printf("Total: %s in %s\n", human_bytes(static_cast<int64_t>(total)).c_str(),
              store.root().c_str());
  return 0;
}

int prune(const Options& o) {
  cache::Store store(cache::Store::root_or_default(o.cache_dir));
  auto r = store.prune(o.keep_storage, o.prune_all || o.keep_storage == 0);
  std::printf("Removed %zu entries, %s\n", r.removed_entries,
              human_bytes(static_cast<int64_t>(r.removed_bytes)).c_str());
  return 0;
}

}  // namespace

int run_command(const Options& o) {
  if (o.command == "help") {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (o.command == "version") {
    std::printf("c2w %s\n", C2W_VERSION);
    return 0;
  }
  if (o.command == "show-recipe") {
    std::fputs(std::string(frontend::default_recipe()).c_str(), stdout);
    return 0;
  }
  if (o.command == "serve") return serve(o.serve_dir, o.addr);
  if (o.command == "du") return du(o);
  if (o.command == "prune") return prune(o);
  return convert(o);
}

}  // namespace c2w::client
