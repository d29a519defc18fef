// Builds the op graph of one target stage, depth first, deduplicating ops by digest.
#include "frontend/build.h"

#include <algorithm>
#include <cctype>

#include "frontend/expand.h"
#include "graph/digest.h"

namespace c2w::frontend {
namespace {

using c2w::v1::Op;

struct StageOutput {
  std::string main;   // the stage's result op
  std::string fetch;  // image stages: the FetchOp, whose output holds the image config
};

struct Vertex {
  Op op;
  c2w::v1::OpMetadata metadata;
};

bool valid_platform(std::string_view p) {
  size_t parts = 1;
  char prev = '/';
  for (char c : p) {
    if (c == '/') {
      if (prev == '/') return false;
      ++parts;
    } else if (!std::islower(static_cast<unsigned char>(c)) &&
               !std::isdigit(static_cast<unsigned char>(c)) && c != '_') {
      return false;
    }
    prev = c;
  }
  return prev != '/' && (parts == 2 || parts == 3);
}

class GraphBuilder {
 public:
  GraphBuilder(const Recipe& recipe, context::FileLoader& loader, const BuildOptions& options)
      : r_(recipe), loader_(loader), options_(options), built_(recipe.stages.size()) {}

  BuildResult run() {
    BuildResult result;
    evaluate_args(result.warnings);
    size_t target = r_.stages.size() - 1;
    if (!options_.target.empty()) {
      std::optional<size_t> found = r_.find_stage(options_.target);
      if (!found) {
        std::string guess = nearest_name(options_.target, r_.stage_names());
        throw RecipeError(r_.file, {}, "target stage \"" + options_.target + "\" is not defined",
                          (guess.empty() ? "" : "did you mean " + guess + "? ") +
                              "stages: " + join(r_.stage_names()));
      }
      target = *found;
    }
    std::string result_digest = stage(target).main;

    c2w::v1::Definition& def = result.definition;
    const std::string total = std::to_string(order_.size());
    for (size_t i = 0; i < order_.size(); ++i) {
      Vertex& v = vertices_.at(order_[i]);
      v.metadata.set_description("[" + std::to_string(i + 1) + "/" + total + "] " +
                                 v.metadata.description());
      def.add_ops(graph::deterministic_bytes(v.op));
      (*def.mutable_metadata())[order_[i]] = v.metadata;
    }
    def.mutable_result()->set_digest(result_digest);
    def.mutable_result()->set_output(0);
    return result;
  }

 private:
  [[noreturn]] void fail(SourcePos pos, std::string message, std::string hint = {}) const {
    throw RecipeError(r_.file, pos, std::move(message), std::move(hint));
  }

  // ARG values in declaration order; each default sees only the ARGs above it.
  void evaluate_args(std::vector<std::string>& warnings) {
    for (size_t i = 0; i < r_.args.size(); ++i) {
      const ArgDecl& decl = r_.args[i];
      ArgValue value{std::nullopt, decl.pos};
      if (auto it = options_.build_args.find(decl.name); it != options_.build_args.end()) {
        value.value = it->second;
      } else if (decl.default_value) {
        value.value = expand(*decl.default_value, scope(i), r_.file);
      }
      values_.push_back(std::move(value));
    }
    for (const auto& [name, value] : options_.build_args) {
      bool declared = std::any_of(r_.args.begin(), r_.args.end(),
                                  [&](const ArgDecl& d) { return d.name == name; });
      if (!declared) {
        warnings.push_back("build-arg " + name + " is not declared by any ARG in " + r_.file +
                           "; it was ignored");
      }
    }
  }

  ArgScope scope(size_t count) const {
    ArgScope out;
    for (size_t i = 0; i < count && i < values_.size(); ++i) out[r_.args[i].name] = values_[i];
    return out;
  }

  std::string add(Op op, const Stage& stage, SourcePos pos, std::string description) {
    std::string digest = graph::op_digest(op);
    if (vertices_.contains(digest)) return digest;  // first stage to need it names it
    Vertex v{std::move(op), {}};
    v.metadata.set_stage(stage.name);
    v.metadata.set_description(std::move(description));
    v.metadata.mutable_location()->set_file(r_.file);
    v.metadata.mutable_location()->set_line(pos.line);
    v.metadata.mutable_location()->set_column(pos.column);
    vertices_.emplace(digest, std::move(v));
    order_.push_back(digest);
    return digest;
  }

  static void input(Op& op, const std::string& digest) {
    c2w::v1::Input* in = op.add_inputs();
    in->set_digest(digest);
    in->set_output(0);
  }

  const StageOutput& stage(size_t index) {
    if (!built_[index]) {
      const Stage& s = r_.stages[index];
      ArgScope vars = scope(s.args_in_scope);
      built_[index] = std::visit([&](const auto& body) { return build(s, body, vars); }, s.body);
    }
    return *built_[index];
  }

  StageOutput build(const Stage& s, const FromBody& b, const ArgScope& vars) {
    std::string ref_text = expand(b.ref, vars, r_.file);
    std::string ref;
    try {
      ref = normalize_image_ref(ref_text);
    } catch (const std::invalid_argument& e) {
      fail(b.ref.start, "bad image reference \"" + ref_text + "\": " + e.what(),
           "write e.g. busybox, docker.io/library/alpine:3.20, ghcr.io/owner/name@sha256:<hex> "
           "or oci-layout:<dir>:<tag>");
    }
    std::string platform(kDefaultPlatform);
    if (b.platform) {
      platform = expand(*b.platform, vars, r_.file);
      if (!valid_platform(platform)) {
        fail(b.platform->start, "bad PLATFORM \"" + platform + "\"",
             "write os/arch[/variant] in lowercase, e.g. linux/riscv64");
      }
    }
    Op fetch;
    fetch.mutable_fetch()->set_ref(ref);
    fetch.mutable_fetch()->set_platform(platform);
    StageOutput out;
    out.fetch = add(fetch, s, s.pos, "FROM " + ref + " (" + platform + ")");
    Op unpack;
    input(unpack, out.fetch);
    unpack.mutable_unpack();
    out.main = add(unpack, s, s.pos, "UNPACK " + ref);
    return out;
  }

  // A path named by the recipe: context-relative, then handed to the loader.
  std::string context_path(const Word& w, const std::string& text, const std::string& what) {
    try {
      return context::normalize_context_path(text);
    } catch (const std::invalid_argument& e) {
      fail(w.start, "bad " + what + " path: " + e.what(),
           "paths are relative to the context directory and stay inside it");
    }
  }

  template <typename F>
  auto load(const Word& w, const std::string& path, const std::string& what, F&& f) {
    try {
      return f();
    } catch (const std::exception& e) {
      fail(w.start, "cannot read " + what + " \"" + path + "\": " + e.what(),
           "paths are relative to the context directory");
    }
  }

  StageOutput build(const Stage& s, const KernelBody& b, const ArgScope& vars) {
    std::string source = expand(b.source, vars, r_.file);
    std::string sha256 = b.sha256 ? expand(*b.sha256, vars, r_.file) : "";
    for (char& c : sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Op src;
    std::string src_text;
    if (source.starts_with("debian:")) {
      std::string spec = source.substr(7);
      size_t eq = spec.find('=');
      std::string name = spec.substr(0, eq);
      bool ok = name.size() >= 2 && std::all_of(name.begin(), name.end(), [](char c) {
                  return std::islower(static_cast<unsigned char>(c)) ||
                         std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' ||
                         c == '.';
                });
      if (!ok || (eq != std::string::npos && eq + 1 == spec.size())) {
        fail(b.source.start, "bad Debian package \"" + spec + "\"",
             "write debian:<package>[=<version>], e.g. debian:linux-source-6.1");
      }
      if (b.sha256) {
        fail(b.sha256->start, "SHA256 applies to URL sources only",
             "Debian packages are verified by the archive; drop SHA256");
      }
      src.mutable_source()->mutable_debian()->set_name(name);
      if (eq != std::string::npos)
        src.mutable_source()->mutable_debian()->set_version(spec.substr(eq + 1));
    } else if (source.starts_with("https://") || source.starts_with("http://")) {
      if (!b.sha256) {
        fail(b.source.start, "a URL kernel source needs SHA256 <hex>",
             "pin the download: KERNEL " + source + " SHA256 <64 hex digits> CONFIG ...");
      }
      if (sha256.size() != 64 || !std::all_of(sha256.begin(), sha256.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
          })) {
        fail(b.sha256->start, "bad SHA256 \"" + sha256 + "\"", "write 64 hex digits");
      }
      src.mutable_source()->mutable_http()->set_url(source);
      src.mutable_source()->mutable_http()->set_sha256(sha256);
    } else {
      if (b.sha256) {
        fail(b.sha256->start, "SHA256 applies to URL sources only",
             "a local tarball is identified by its content; drop SHA256");
      }
      std::string path = context_path(b.source, source, "kernel source");
      src.mutable_local()->set_name(path);
      src.mutable_local()->set_content_digest(
          load(b.source, path, "kernel source", [&] { return loader_.digest(path); }));
    }
    src_text = source;
    std::string src_digest = add(src, s, s.pos, "KERNEL source " + src_text);

    std::string arch(kDefaultArch);
    if (b.arch) {
      arch = expand(*b.arch, vars, r_.file);
      bool ok = !arch.empty() && std::all_of(arch.begin(), arch.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '_';
      });
      if (!ok) fail(b.arch->start, "bad ARCH \"" + arch + "\"", "write e.g. ARCH riscv64");
    }
    std::string config = context_path(b.config, expand(b.config, vars, r_.file), "CONFIG");
    Op kernel;
    input(kernel, src_digest);
    kernel.mutable_kernel()->set_arch(arch);
    kernel.mutable_kernel()->set_config_fragment(
        load(b.config, config, "CONFIG file", [&] { return loader_.read_text(config); }));
    return {add(kernel, s, s.pos, "KERNEL " + arch + " CONFIG " + config), ""};
  }

  StageOutput build(const Stage& s, const RootfsBody& b, const ArgScope& vars) {
    StageOutput image = stage(b.image.index);
    Op op;
    input(op, image.main);
    input(op, image.fetch);
    auto* rootfs = op.mutable_rootfs();
    for (const CopyLine& c : b.copies) {
      std::string src = context_path(c.src, expand(c.src, vars, r_.file), "COPY source");
      std::string dst = expand(c.dst, vars, r_.file);
      if (!dst.starts_with("/")) {
        fail(c.dst.start, "COPY destination \"" + dst + "\" is not absolute",
             "write the path inside the rootfs from /, e.g. /etc/app.conf");
      }
      Op local;
      local.mutable_local()->set_name(src);
      local.mutable_local()->set_content_digest(
          load(c.src, src, "COPY source", [&] { return loader_.digest(src); }));
      auto* copy = rootfs->add_copies();
      copy->set_src(src);
      copy->set_dst(dst);
      copy->set_input(static_cast<uint32_t>(op.inputs_size()));
      input(op, add(local, s, c.pos, "COPY " + src));
    }
    for (const EnvPair& e : b.env) rootfs->add_env(e.key + "=" + expand(e.value, vars, r_.file));
    if (b.entrypoint) {
      rootfs->set_entrypoint_set(true);
      for (const std::string& a : b.entrypoint->argv) rootfs->add_entrypoint(a);
    }
    if (b.cmd) {
      rootfs->set_cmd_set(true);
      for (const std::string& a : b.cmd->argv) rootfs->add_cmd(a);
    }
    return {add(op, s, s.pos, "ROOTFS " + r_.stages[b.image.index].name), ""};
  }

  StageOutput build(const Stage& s, const BootBody& b, const ArgScope& vars) {
    std::string kernel = stage(b.kernel.index).main;
    std::string rootfs = stage(b.rootfs.index).main;
    std::string memory = expand(b.memory, vars, r_.file);
    std::optional<uint64_t> bytes = parse_memory_size(memory);
    if (!bytes || *bytes < kMinMemory || *bytes > kMaxMemory) {
      fail(b.memory.start, "bad MEMORY size \"" + memory + "\"",
           "write whole 4K pages with a K, M or G suffix between 16M and 3G, e.g. 256M or 1G");
    }
    Op op;
    input(op, kernel);
    input(op, rootfs);
    op.mutable_boot()->set_memory_bytes(*bytes);
    if (b.append) op.mutable_boot()->set_append(expand(*b.append, vars, r_.file));
    return {add(op, s, s.pos, "BOOT " + b.kernel.name + " " + b.rootfs.name + " MEMORY " + memory),
            ""};
  }

  StageOutput build(const Stage& s, const PackBody& b, const ArgScope& vars) {
    std::string boot = stage(b.boot.index).main;
    std::string target = expand(b.target, vars, r_.file);
    std::string lowered = target;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Op op;
    input(op, boot);
    if (lowered == "wasi") {
      op.mutable_pack()->set_target(c2w::v1::PackOp::TARGET_WASI);
    } else if (lowered == "browser") {
      op.mutable_pack()->set_target(c2w::v1::PackOp::TARGET_BROWSER);
    } else {
      fail(b.target.start, "bad TARGET \"" + target + "\"", "TARGET is wasi or browser");
    }
    return {add(op, s, s.pos, "PACK " + b.boot.name + " TARGET " + lowered), ""};
  }

  const Recipe& r_;
  context::FileLoader& loader_;
  const BuildOptions& options_;
  std::vector<ArgValue> values_;
  std::vector<std::optional<StageOutput>> built_;
  std::map<std::string, Vertex> vertices_;
  std::vector<std::string> order_;  // digests, inputs before users
};

}  // namespace

BuildResult build_graph(const Recipe& recipe, context::FileLoader& loader,
                        const BuildOptions& options) {
  return GraphBuilder(recipe, loader, options).run();
}

BuildResult build_recipe(std::string_view text, const std::string& file,
                         context::FileLoader& loader, const BuildOptions& options) {
  return build_graph(parse_recipe(text, file), loader, options);
}

}  // namespace c2w::frontend
