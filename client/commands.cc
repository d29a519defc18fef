#include "client/commands.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/hash.h"
#include "cache/shared/shared_cache.h"
#include "cache/store.h"
#include "client/browser.h"
#include "client/export.h"
#include "client/progress_printer.h"
#include "client/remote.h"
#include "client/uploads.h"
#include "frontend/frontend.h"
#include "graph/digest.h"
#include "kernel/fragments.h"
#include "ops/fetch/image_source.h"
#include "ops/shipped.h"
#include "solver/solver.h"

namespace c2w::client {

namespace {

namespace fs = std::filesystem;
using cache::ArtifactLocation;
using cache::ArtifactStore;
using cache::CacheExportSummary;
using cache::SharedCache;

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
    // The flag applies to the image's registry and to those of --cache-to, --cache-from and
    // --output type=registry; FROM lines naming others use the config file.
    std::vector<std::string> refs = {o.image, o.cache_to.ref, o.cache_from.ref, o.output_ref};
    for (const std::string& ref : refs) {
      if (ref.empty()) continue;
      oci::Reference parsed = oci::parse_reference(ref);
      if (parsed.kind == oci::Reference::Kind::kRegistry) r.credentials[parsed.registry] = o.creds;
    }
  }
  return r;
}

ArtifactLocation location_of(const Options::CacheLocation& c) {
  return ArtifactLocation{c.type, c.ref, c.dir, c.tag};
}

// Whether the build's result is a PACK ... TARGET browser (the recipe asks for a folder).
bool result_is_browser_pack(const v1::Definition& d) {
  for (const std::string& bytes : d.ops()) {
    v1::Op op;
    if (!op.ParseFromString(bytes)) continue;
    if (op.has_pack() && graph::op_digest(op) == d.result().digest())
      return op.pack().target() == v1::PackOp::TARGET_BROWSER;
  }
  return false;
}

int convert(const Options& o) {
  std::string recipe_text, recipe_name;
  std::unique_ptr<frontend::FileLoader> loader;
  fs::path context;  // where the recipe's local files are (none for the embedded recipe)
  if (o.recipe_file.empty()) {
    recipe_text = frontend::default_recipe();
    recipe_name = frontend::kDefaultRecipeName;
    auto memory = std::make_unique<frontend::MemoryLoader>();
    for (auto& [path, text] : kernel::embedded_fragments()) memory->add(path, text);
    loader = std::move(memory);
  } else {
    recipe_text = read_recipe_file(o.recipe_file);
    recipe_name = o.recipe_file;
    context = fs::absolute(o.recipe_file).parent_path();
    loader = std::make_unique<frontend::DirectoryLoader>(context);
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

  solver::CancelToken cancel;
  g_cancel = &cancel;
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  solver::SolveResult result;
  std::unique_ptr<ProgressPrinter> printer;
  // --cache-to: exported after the result is written, so a failed push loses no output.
  std::unique_ptr<cache::Store> store;
  std::unique_ptr<ArtifactStore> cache_to;
  RemoteResult remote;
  try {
    if (!o.builder.address.empty()) {
      v1::SolveRequest request;
      *request.mutable_definition() = built.definition;
      request.set_no_cache(o.no_cache);
      for (auto [loc, field] : {std::pair{&o.cache_to, request.mutable_cache_to()},
                                std::pair{&o.cache_from, request.mutable_cache_from()}}) {
        if (loc->type.empty()) continue;
        if (loc->type != "registry")
          throw UsageError("with --builder, the shared cache must be type=registry",
                           "a type=local directory would be the builder's, not this machine's; "
                           "use type=registry,ref=HOST/REPO:TAG on a registry the builder reaches");
        field->set_ref(loc->ref);
      }
      auto stub = v1::Control::NewStub(builder_channel(o.builder));
      printer = make_progress_printer(o.progress, stderr);
      // This machine's cache holds local images read for upload and downloaded results, so a
      // result it already has is not downloaded again.
      store = std::make_unique<cache::Store>(o.cache_dir.empty() ? cache::Store::default_root()
                                                                 : fs::path(o.cache_dir));
      attach_local_inputs(*stub, o.builder, context, *store, *printer, cancel, request);
      remote = solve_remote(o.builder, *stub, request, *printer, cancel, *store);
      result.record.content = remote.result.digest();
      if (remote.result.kind() == v1::SolveResult::KIND_TREE)
        result.record.kind = cache::Record::Kind::kTree;
      result.record.size = static_cast<uint64_t>(remote.result.size_bytes());
      if (!remote.result.filename().empty())
        result.record.meta = {{"filename", remote.result.filename()}};
      result.path = remote.file;
    } else {
      store = std::make_unique<cache::Store>(o.cache_dir.empty() ? cache::Store::default_root()
                                                                 : fs::path(o.cache_dir));
      solver::SolveOptions so;
      so.no_cache = o.no_cache;
      fetch::RegistryOptions ro = registry_options(o);
      solver::Solver solver(*store, so, ops::shipped_ops(ro, context));
      solver.check_ops(built.definition);  // before any work: say which op is missing
      auto cancelled = [&cancel] { return cancel.cancelled(); };
      // Refuse a bad --cache-to before the build, not after it.
      if (!o.cache_to.type.empty())
        cache_to = cache::open_artifact_store(location_of(o.cache_to), ro, cancelled);
      std::unique_ptr<SharedCache> shared;
      if (!o.cache_from.type.empty())
        shared = std::make_unique<SharedCache>(
            cache::open_artifact_store(location_of(o.cache_from), ro, cancelled), *store);
      printer = make_progress_printer(o.progress, stderr);
      result = solver.solve(built.definition, *printer, cancel, {.shared = shared.get()});
    }
  } catch (...) {
    if (printer) printer->finish(false);
    g_cancel = nullptr;
    throw;
  }
  if (printer) printer->finish(true);
  g_cancel = nullptr;
  for (const std::string& w : remote.warnings)
    std::fprintf(stderr, "c2w: warning: %s\n", w.c_str());

  if (o.to_browser || result_is_browser_pack(built.definition)) {
    if (result.record.kind == cache::Record::Kind::kTree)
      throw Error("the result of this build is a directory tree, not a module",
                  "--to-browser needs a recipe whose last stage is PACK");
    const std::string dir = !o.output_dest.empty() ? o.output_dest
                            : !o.output.empty()    ? o.output
                                                   : "out-browser";
    export_browser(result.path, dir);
    std::fprintf(stderr, "c2w: wrote %s (serve it with: c2w serve %s)\n", dir.c_str(), dir.c_str());
  } else if (o.output_type == "registry") {
    if (result.record.kind == cache::Record::Kind::kTree)
      throw Error("the result of this build is a directory tree, which cannot be pushed",
                  "push a file result (e.g. without --target), or export the tree with "
                  "--output type=local,dest=DIR");
    std::string name = "out.wasm";
    if (result.record.meta.is_object()) name = result.record.meta.value("filename", name);
    if (!o.output.empty()) name = fs::path(o.output).filename().string();
    auto target = cache::open_artifact_store(ArtifactLocation{"registry", o.output_ref, "", ""},
                                             registry_options(o), nullptr);
    std::string digest = cache::push_result(result.path, result.record, name, *target);
    std::fprintf(stderr, "c2w: pushed %s (%s, %s) to %s\n", name.c_str(),
                 cache::result_media_type(name).c_str(),
                 human_bytes(static_cast<int64_t>(fs::file_size(result.path))).c_str(),
                 o.output_ref.c_str());
    std::printf("%s\n", digest.c_str());
  } else if (o.output_type == "local") {
    if (result.record.kind == cache::Record::Kind::kTree)
      export_tree(result.path, o.output_dest);
    else {
      fs::create_directories(o.output_dest);
      // The op may name its output (a kernel is "Image"); OUTPUT's file name wins.
      std::string name = "out.wasm";
      if (result.record.meta.is_object()) name = result.record.meta.value("filename", name);
      export_file(result.path,
                  fs::path(o.output_dest) /
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
  if (remote.late_error) throw *remote.late_error;
  if (remote.cache_export) {
    const v1::CacheExport& e = *remote.cache_export;
    std::fprintf(stderr, "c2w: exported the cache (%zu records, %zu blobs, %s) to %s @%s\n",
                 size_t(e.records()), size_t(e.blobs()),
                 human_bytes(static_cast<int64_t>(e.bytes())).c_str(), e.target().c_str(),
                 e.manifest_digest().c_str());
  }
  if (cache_to) {
    CacheExportSummary sum;
    try {
      sum = cache::export_cache(result.records, *store, *cache_to);
    } catch (const Cancelled&) {
      throw;
    } catch (const Error& e) {
      throw Error("cannot export the cache to " + cache_to->describe() + ": " + e.what(), e.hint());
    }
    std::fprintf(stderr, "c2w: exported the cache (%zu records, %zu blobs, %s) to %s @%s\n",
                 sum.records, sum.blobs, human_bytes(static_cast<int64_t>(sum.bytes)).c_str(),
                 cache_to->describe().c_str(), sum.manifest_digest.c_str());
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
  if (o.command == "serve") return serve(o.serve_dir, o.addr);
  if (o.command == "du") return du(o);
  if (o.command == "prune") return prune(o);
  return convert(o);
}

}  // namespace c2w::client
