#include "client/commands.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/hash.h"
#include "cache/store.h"
#include "client/export.h"
#include "client/progress_printer.h"
#include "frontend/frontend.h"
#include "kernel/fragments.h"
#include "kernel/init/embedded_init.h"
#include "ops/assemble-rootfs/assemble_op.h"
#include "ops/fetch/fetch_op.h"
#include "ops/fetch/image_source.h"
#include "ops/unpack/unpack_op.h"
#include "solver/solver.h"

namespace c2w::client {

namespace {

namespace fs = std::filesystem;

solver::CancelToken* g_cancel = nullptr;

extern "C" void on_interrupt(int) {
  static volatile sig_atomic_t count = 0;
  count = count + 1;
  if (count > 1) std::_Exit(130);  // a second Ctrl-C: leave now; the cache is still consistent
  if (g_cancel) g_cancel->cancel();
}

std::string read_recipe_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read recipe " + path, "check the path given to --recipe");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fetch::RegistryOptions registry_options(const Options& o) {
  fetch::RegistryOptions r;
  r.insecure_hosts.insert(o.insecure_registries.begin(), o.insecure_registries.end());
  r.ca_file = o.registry_ca;
  r.credentials = fetch::docker_config_credentials();
  if (!o.creds.empty()) {
    if (o.creds.find(':') == std::string::npos) throw UsageError("--creds needs USER:PASSWORD");
    // The flag applies to the image's registry; FROM lines naming others use the config file.
    std::string host = o.image.empty() ? "" : oci::parse_reference(o.image).registry;
    r.credentials[host] = o.creds;
  }
  return r;
}

solver::OpRegistry shipped_ops(const Options& o) {
  solver::OpRegistry ops;
  ops.add(v1::Op::kFetch, "fetch", std::make_shared<fetch::FetchOp>(registry_options(o)));
  ops.add(v1::Op::kUnpack, "unpack", std::make_shared<unpack::UnpackOp>());
  ops.add(v1::Op::kAssembleRootfs, "assemble-rootfs",
          std::make_shared<assemble::AssembleRootfsOp>(guest::embedded_init()));
  return ops;
}

// Fails before any work when the graph needs an op this build of c2w does not have.
void check_ops_exist(const v1::Definition& def, const solver::OpRegistry& ops) {
  for (const std::string& bytes : def.ops()) {
    v1::Op op;
    if (!op.ParseFromString(bytes) || ops.find(op.kind_case())) continue;
    std::string where;
    auto meta = def.metadata().find(xxh3_digest(bytes));
    if (meta != def.metadata().end()) {
      where = " (stage " + meta->second.stage();
      if (meta->second.has_location())
        where += ", " + meta->second.location().file() + ":" +
                 std::to_string(meta->second.location().line());
      where += ")";
    }
    throw Error("this build needs the " + solver::OpRegistry::kind_name(op.kind_case()) + " op" +
                    where + ", which this version of c2w does not have yet",
                "export what it can build with --target STAGE --output type=local,dest=DIR "
                "(e.g. --target image for the unpacked rootfs)");
  }
}

int convert(const Options& o) {
  std::string recipe_text, recipe_name;
  std::unique_ptr<frontend::FileLoader> loader;
  if (o.recipe_file.empty()) {
    recipe_text = frontend::default_recipe();
    recipe_name = frontend::kDefaultRecipeName;
    auto memory = std::make_unique<frontend::MemoryLoader>();
    for (auto& [path, text] : kernel::embedded_fragments()) memory->add(path, text);
    loader = std::move(memory);
  } else {
    recipe_text = read_recipe_file(o.recipe_file);
    recipe_name = o.recipe_file;
    loader = std::make_unique<frontend::DirectoryLoader>(fs::absolute(o.recipe_file).parent_path());
  }
  frontend::BuildOptions bo;
  bo.build_args = o.build_args;
  if (!o.image.empty()) bo.build_args["IMAGE"] = o.image;
  if (!o.target_arch.empty()) bo.build_args["TARGET_ARCH"] = o.target_arch;
  if (!o.platform.empty()) {
    fetch::Platform p = fetch::Platform::parse(o.platform);
    if (!o.target_arch.empty() && o.target_arch != p.architecture)
      throw UsageError("--platform " + o.platform + " contradicts --target-arch " + o.target_arch);
    bo.build_args["TARGET_ARCH"] = p.architecture;
  }
  bo.target = o.target_stage;
  frontend::BuildResult built;
  try {
    built = frontend::build_recipe(recipe_text, recipe_name, *loader, bo);
  } catch (const frontend::RecipeError& e) {
    std::string pos =
        e.line() ? ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()) : "";
    throw Error(e.file() + pos + ": " + e.message(), e.hint());
  }
  for (const std::string& w : built.warnings) std::fprintf(stderr, "c2w: warning: %s\n", w.c_str());

  solver::OpRegistry ops = shipped_ops(o);
  check_ops_exist(built.definition, ops);
  cache::Store store(o.cache_dir.empty() ? cache::Store::default_root() : fs::path(o.cache_dir));
  solver::SolveOptions so;
  so.no_cache = o.no_cache;
  solver::Solver solver(store, so, std::move(ops));

  solver::CancelToken cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  auto printer = make_progress_printer(o.progress, stderr);
  solver::SolveResult result;
  try {
    result = solver.solve(built.definition, *printer, cancel);
  } catch (...) {
    printer->finish(false);
    g_cancel = nullptr;
    throw;
  }
  printer->finish(true);
  g_cancel = nullptr;

  if (o.output_type == "local") {
    if (result.record.kind == cache::Record::Kind::kTree)
      export_tree(result.path, o.output_dest);
    else {
      fs::create_directories(o.output_dest);
      // An intermediate result (e.g. the initramfs of --target rootfs) names its own file.
      std::string name = result.record.meta.value("filename", std::string("out.wasm"));
      export_file(result.path, fs::path(o.output_dest) /
                                   (o.output.empty() ? fs::path(name) : fs::path(o.output).filename()));
    }
    std::fprintf(stderr, "c2w: wrote %s\n", o.output_dest.c_str());
  } else {
    if (result.record.kind == cache::Record::Kind::kTree)
      throw Error("the result of this build is a directory tree, not a file",
                  "export it with --output type=local,dest=DIR");
    std::string out = o.output.empty() ? "out.wasm" : o.output;
    export_file(result.path, out);
    std::fprintf(stderr, "c2w: wrote %s\n", out.c_str());
  }
  return 0;
}

int du(const Options& o) {
  cache::Store store(o.cache_dir.empty() ? cache::Store::default_root() : fs::path(o.cache_dir));
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
  cache::Store store(o.cache_dir.empty() ? cache::Store::default_root() : fs::path(o.cache_dir));
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
  if (o.command == "du") return du(o);
  if (o.command == "prune") return prune(o);
  return convert(o);
}

}  // namespace c2w::client
