#include "client/convert.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "base/error.h"
#include "cache/store.h"
#include "client/browser.h"
#include "client/export.h"
#include "client/progress_printer.h"
#include "client/remote.h"
#include "client/uploads.h"
#include "distribution/image_source.h"
#include "frontend/frontend.h"
#include "graph/digest.h"
#include "ops/kernel/fragments.h"
#include "ops/registry.h"
#include "shared_cache/shared_cache.h"
#include "solver/solver.h"

namespace c2w::client {

namespace {

namespace fs = std::filesystem;
using shared_cache::ArtifactLocation;
using shared_cache::ArtifactStore;

// ---- 1. recipe -> graph ----

struct Graph {
  v1::Definition definition;
  fs::path context;  // where the recipe's local files are (none for the embedded recipe)
};

std::string read_recipe_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read recipe " + path, "check the path given to --recipe");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

frontend::BuildOptions build_options(const Options& o) {
  frontend::BuildOptions bo;
  bo.build_args = o.build_args;
  if (!o.image.empty()) bo.build_args["IMAGE"] = o.image;
  if (!o.target_arch.empty()) bo.build_args["TARGET_ARCH"] = o.target_arch;
  if (!o.platform.empty()) {
    distribution::Platform p = distribution::Platform::parse(o.platform);
    if (!o.target_arch.empty() && o.target_arch != p.architecture)
      throw UsageError("--platform " + o.platform + " contradicts --target-arch " + o.target_arch);
    bo.build_args["TARGET_ARCH"] = p.architecture;
  }
  bo.target = o.target_stage;
  return bo;
}

Graph build_graph(const Options& o) {
  Graph g;
  std::string text, name;
  std::unique_ptr<context::FileLoader> loader;
  if (o.recipe_file.empty()) {
    text = frontend::default_recipe();
    name = frontend::kDefaultRecipeName;
    auto memory = std::make_unique<context::MemoryLoader>();
    for (auto& [path, fragment] : kernel::embedded_fragments()) memory->add(path, fragment);
    loader = std::move(memory);
  } else {
    text = read_recipe_file(o.recipe_file);
    name = o.recipe_file;
    g.context = fs::absolute(o.recipe_file).parent_path();
    loader = std::make_unique<context::DirectoryLoader>(g.context);
  }
  frontend::BuildResult built;
  try {
    built = frontend::build_recipe(text, name, *loader, build_options(o));
  } catch (const frontend::RecipeError& e) {
    std::string pos =
        e.line() ? ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()) : "";
    throw Error(e.file() + pos + ": " + e.message(), e.hint());
  }
  for (const std::string& w : built.warnings) std::fprintf(stderr, "c2w: warning: %s\n", w.c_str());
  g.definition = std::move(built.definition);
  return g;
}

// ---- 2. solve ----

solver::CancelToken* g_cancel = nullptr;

extern "C" void on_interrupt(int) {
  static volatile sig_atomic_t count = 0;
  count = count + 1;
  if (count > 1) std::_Exit(130);  // a second Ctrl-C: leave now; the cache is still consistent
  if (g_cancel) g_cancel->cancel();
}

// Ctrl-C and SIGTERM cancel `token` while this lives.
class CancelOnInterrupt {
 public:
  explicit CancelOnInterrupt(solver::CancelToken& token) {
    g_cancel = &token;
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
  }
  ~CancelOnInterrupt() { g_cancel = nullptr; }
  CancelOnInterrupt(const CancelOnInterrupt&) = delete;
  CancelOnInterrupt& operator=(const CancelOnInterrupt&) = delete;
};

distribution::RegistryOptions registry_options(const Options& o) {
  distribution::RegistryOptions r;
  r.insecure_hosts.insert(o.insecure_registries.begin(), o.insecure_registries.end());
  r.ca_file = o.registry_ca;
  r.credentials = distribution::docker_config_credentials();
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

// What a solve leaves for the steps after it.
struct Solved {
  solver::SolveResult result;
  std::unique_ptr<cache::Store> store;
  std::unique_ptr<ArtifactStore> cache_to;   // in process: where --cache-to exports
  RemoteResult remote;                       // on a builder: what it sent besides the result
  std::unique_ptr<ProgressPrinter> printer;  // made once the checks before the solve passed
};

void solve_on_builder(const Options& o, const Graph& g, solver::CancelToken& cancel, Solved* s) {
  v1::SolveRequest request;
  *request.mutable_definition() = g.definition;
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
  s->printer = make_progress_printer(o.progress, stderr);
  attach_local_inputs(*stub, o.builder, g.context, *s->store, *s->printer, cancel, request);
  s->remote = solve_remote(o.builder, *stub, request, *s->printer, cancel, *s->store);
  const v1::SolveResult& r = s->remote.result;
  s->result.record.content = r.digest();
  if (r.kind() == v1::SolveResult::KIND_TREE) s->result.record.kind = cache::Record::Kind::kTree;
  s->result.record.size = static_cast<uint64_t>(r.size_bytes());
  if (!r.filename().empty()) s->result.record.meta = {{"filename", r.filename()}};
  s->result.path = s->remote.file;
}

void solve_in_process(const Options& o, const Graph& g, solver::CancelToken& cancel, Solved* s) {
  solver::SolveOptions so;
  so.no_cache = o.no_cache;
  const distribution::RegistryOptions ro = registry_options(o);
  solver::Solver solver(*s->store, so, ops::shipped_ops(ro, g.context));
  solver.check_ops(g.definition);  // before any work: say which op is missing
  auto cancelled = [&cancel] { return cancel.cancelled(); };
  // Refuse a bad --cache-to before the build, not after it.
  if (!o.cache_to.type.empty())
    s->cache_to = shared_cache::open_artifact_store(location_of(o.cache_to), ro, cancelled);
  std::unique_ptr<shared_cache::SharedCache> shared;
  if (!o.cache_from.type.empty())
    shared = std::make_unique<shared_cache::SharedCache>(
        shared_cache::open_artifact_store(location_of(o.cache_from), ro, cancelled), *s->store);
  s->printer = make_progress_printer(o.progress, stderr);
  s->result = solver.solve(g.definition, *s->printer, cancel, {.shared = shared.get()});
}

Solved solve(const Options& o, const Graph& g) {
  Solved s;
  // On a builder, this machine's cache holds local images read for upload and downloaded
  // results, so a result it already has is not downloaded again.
  s.store = std::make_unique<cache::Store>(cache::Store::root_or_default(o.cache_dir));
  solver::CancelToken cancel;
  CancelOnInterrupt interrupts(cancel);
  try {
    if (!o.builder.address.empty())
      solve_on_builder(o, g, cancel, &s);
    else
      solve_in_process(o, g, cancel, &s);
  } catch (...) {
    if (s.printer) s.printer->finish(false);
    throw;
  }
  s.printer->finish(true);
  for (const std::string& w : s.remote.warnings)
    std::fprintf(stderr, "c2w: warning: %s\n", w.c_str());
  return s;
}

// ---- 3. output ----

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

// The name the op gave its output (a kernel is "Image"), else out.wasm; OUTPUT's wins.
std::string output_name(const Options& o, const cache::Record& record) {
  if (!o.output.empty()) return fs::path(o.output).filename().string();
  std::string name = "out.wasm";
  if (record.meta.is_object()) name = record.meta.value("filename", name);
  return name;
}

void refuse_tree(const solver::SolveResult& r, const std::string& what, const std::string& hint) {
  if (r.record.kind == cache::Record::Kind::kTree)
    throw Error("the result of this build is a directory tree, " + what, hint);
}

void write_output(const Options& o, const Graph& g, const solver::SolveResult& r) {
  if (o.to_browser || result_is_browser_pack(g.definition)) {
    refuse_tree(r, "not a module", "--to-browser needs a recipe whose last stage is PACK");
    const std::string dir = !o.output_dest.empty() ? o.output_dest
                            : !o.output.empty()    ? o.output
                                                   : "out-browser";
    export_browser(r.path, dir);
    std::fprintf(stderr, "c2w: wrote %s (serve it with: c2w serve %s)\n", dir.c_str(), dir.c_str());
  } else if (o.output_type == "registry") {
    refuse_tree(r, "which cannot be pushed",
                "push a file result (e.g. without --target), or export the tree with "
                "--output type=local,dest=DIR");
    const std::string name = output_name(o, r.record);
    auto target = shared_cache::open_artifact_store(
        ArtifactLocation{"registry", o.output_ref, "", ""}, registry_options(o), nullptr);
    const std::string digest = shared_cache::push_result(r.path, r.record, name, *target);
    std::fprintf(stderr, "c2w: pushed %s (%s, %s) to %s\n", name.c_str(),
                 shared_cache::result_media_type(name).c_str(),
                 human_bytes(static_cast<int64_t>(fs::file_size(r.path))).c_str(),
                 o.output_ref.c_str());
    std::printf("%s\n", digest.c_str());
  } else if (o.output_type == "local") {
    if (r.record.kind == cache::Record::Kind::kTree) {
      export_tree(r.path, o.output_dest);
    } else {
      fs::create_directories(o.output_dest);
      export_file(r.path, fs::path(o.output_dest) / output_name(o, r.record));
    }
    std::fprintf(stderr, "c2w: wrote %s\n", o.output_dest.c_str());
  } else {
    refuse_tree(r, "not a file", "export it with --output type=local,dest=DIR");
    const std::string out = o.output.empty() ? "out.wasm" : o.output;
    export_file(r.path, out);
    std::fprintf(stderr, "c2w: wrote %s\n", out.c_str());
  }
}

// ---- 4. --cache-to ----

void print_cache_export(size_t records, size_t blobs, uint64_t bytes, const std::string& target,
                        const std::string& digest) {
  std::fprintf(stderr, "c2w: exported the cache (%zu records, %zu blobs, %s) to %s @%s\n", records,
               blobs, human_bytes(static_cast<int64_t>(bytes)).c_str(), target.c_str(),
               digest.c_str());
}

void export_shared_cache(const Solved& s) {
  if (s.remote.cache_export) {  // the builder exported it
    const v1::CacheExport& e = *s.remote.cache_export;
    print_cache_export(size_t(e.records()), size_t(e.blobs()), e.bytes(), e.target(),
                       e.manifest_digest());
  }
  if (!s.cache_to) return;
  shared_cache::CacheExportSummary sum;
  try {
    sum = shared_cache::export_cache(s.result.records, *s.store, *s.cache_to);
  } catch (const Cancelled&) {
    throw;
  } catch (const Error& e) {
    throw Error("cannot export the cache to " + s.cache_to->describe() + ": " + e.what(), e.hint());
  }
  print_cache_export(sum.records, sum.blobs, sum.bytes, s.cache_to->describe(),
                     sum.manifest_digest);
}

}  // namespace

int convert(const Options& o) {
  const Graph g = build_graph(o);
  const Solved s = solve(o, g);
  write_output(o, g, s.result);
  // A builder's failed cache export arrives after the result, which is safe by now.
  if (s.remote.late_error) throw *s.remote.late_error;
  export_shared_cache(s);
  return 0;
}

}  // namespace c2w::client
