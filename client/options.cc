#include "client/options.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>

#include "absl/strings/str_split.h"
#include "base/flags.h"
#include "base/size.h"

namespace c2w::client {

std::string usage_text() {
  return R"(usage: c2w [options] IMAGE [OUTPUT]
       c2w du [--cache-dir DIR]
       c2w prune [--keep-storage SIZE] [--all] [--cache-dir DIR]
       c2w --to-browser [options] IMAGE [DIR]
       c2w serve DIR [--addr HOST:PORT]

Converts a container image into a WebAssembly module (OUTPUT, default out.wasm).
IMAGE is a registry reference (busybox, docker.io/library/busybox:1.36, 127.0.0.1:5000/x@sha256:...),
oci-layout:DIR[:TAG|@DIGEST] or docker-archive:FILE.tar.

options:
  --target-arch ARCH          guest architecture (default riscv64)
  --platform OS/ARCH          image platform to pick from a multi-arch index (default linux/riscv64)
  --build-arg NAME=VALUE      set a recipe ARG (repeatable)
  --recipe FILE               use FILE instead of the embedded recipe (c2w's --dockerfile)
  --show-recipe               print the embedded recipe and exit
  --target STAGE              build only up to STAGE
  --output type=local,dest=DIR  write the result (a rootfs tree or a file) into DIR
  --output type=registry,ref=HOST/REPO:TAG
                              push a file result as an OCI artifact (application/wasm for .wasm)
  --cache-to type=registry,ref=HOST/REPO:TAG | type=local,dest=DIR
                              export the build's cache records and blobs (an OCI artifact)
  --cache-from type=registry,ref=HOST/REPO:TAG | type=local,src=DIR
                              use a cache exported by --cache-to (pulled only where needed)
  --to-browser, --to-js       write a folder for a web browser into DIR (default out-browser):
                              index.html, worker, WASI layer, xterm.js and out.wasm; serve
                              it with `c2w serve DIR` (it needs cross-origin isolation)
  --addr HOST:PORT            where `c2w serve` listens (default 127.0.0.1:8080)
  --cache-dir DIR             build cache (default $XDG_CACHE_HOME/c2w)
  --no-cache                  run every step even when cached
  --progress MODE             auto, plain, tty or json (default auto)
  --insecure-registry HOST    talk plain HTTP to HOST[:PORT] (repeatable)
  --registry-ca FILE          trust this CA certificate for registries
  --creds USER:PASSWORD       credentials for the image's registry
  --builder ADDR              build on c2wd at unix:///PATH or tcp://HOST:PORT (also C2W_BUILDER)
  --builder-ca FILE           trust this CA for a tcp:// builder
  --builder-token TOKEN       bearer token for the builder (also C2W_BUILDER_TOKEN)
  --debug-image               make the guest init log each step
  --version, --help
)";
}

uint64_t parse_size(const std::string& text) {
  if (const std::optional<uint64_t> bytes = c2w::parse_size(text)) return *bytes;
  throw UsageError("invalid size \"" + text + "\"",
                   "write it like 10GB, 512M or 1000000 (K, M, G, T are powers of 1024)");
}

namespace {

// "k=v,k=v" of --output, --cache-to and --cache-from; keys outside `allowed` are refused.
std::map<std::string, std::string> parse_spec(const std::string& flag, const std::string& spec,
                                              const std::vector<std::string>& allowed,
                                              const std::string& hint) {
  std::map<std::string, std::string> out;
  for (absl::string_view part : absl::StrSplit(spec, ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (std::find(allowed.begin(), allowed.end(), kv.first) == allowed.end())
      throw UsageError("unknown " + flag + " key \"" + kv.first + "\"", hint);
    out[kv.first] = kv.second;
  }
  return out;
}

Options::CacheLocation parse_cache_location(const std::string& flag, const std::string& spec) {
  const bool to = flag == "--cache-to";
  const std::string dir_key = to ? "dest" : "src";
  const std::string hint = "use " + flag + " type=registry,ref=HOST/REPO:TAG or " + flag +
                           " type=local," + dir_key + "=DIR";
  auto kv = parse_spec(flag, spec, {"type", "ref", dir_key, "tag"}, hint);
  Options::CacheLocation loc;
  loc.type = kv["type"];
  if (loc.type == "registry") {
    loc.ref = kv["ref"];
    if (loc.ref.empty()) throw UsageError(flag + " type=registry needs ref=HOST/REPO:TAG", hint);
    if (kv.count(dir_key) || kv.count("tag"))
      throw UsageError(flag + " type=registry takes ref=, not " + dir_key + "= or tag=", hint);
  } else if (loc.type == "local") {
    loc.dir = kv[dir_key];
    if (loc.dir.empty()) throw UsageError(flag + " type=local needs " + dir_key + "=DIR", hint);
    if (kv.count("ref"))
      throw UsageError(flag + " type=local takes " + dir_key + "=, not ref=", hint);
    loc.tag = kv.count("tag") ? kv["tag"] : "latest";
  } else {
    throw UsageError(flag + " needs type=registry or type=local, got \"" + spec + "\"", hint);
  }
  return loc;
}

}  // namespace

namespace {

// --output type=local,dest=DIR | type=registry,ref=REF
void parse_output(Options& o, const std::string& flag, const std::string& spec) {
  const std::string hint =
      "use --output type=local,dest=DIR or --output type=registry,ref=HOST/REPO:TAG";
  auto kv = parse_spec(flag, spec, {"type", "dest", "ref"}, hint);
  o.output_type = kv["type"];
  o.output_dest = kv["dest"];
  o.output_ref = kv["ref"];
  if (o.output_type == "local") {
    if (o.output_dest.empty() || !o.output_ref.empty())
      throw UsageError("--output type=local needs dest=DIR (and no ref=)", hint);
  } else if (o.output_type == "registry") {
    if (o.output_ref.empty() || !o.output_dest.empty())
      throw UsageError("--output type=registry needs ref=HOST/REPO:TAG (and no dest=)", hint);
  } else {
    throw UsageError("--output needs type=local or type=registry, got \"" + spec + "\"", hint);
  }
}

void parse_build_arg(Options& o, const std::string& kv) {
  std::pair<std::string, std::string> parts = absl::StrSplit(kv, absl::MaxSplits('=', 1));
  if (kv.find('=') == std::string::npos || parts.first.empty())
    throw UsageError("--build-arg needs NAME=VALUE, got \"" + kv + "\"");
  o.build_args[parts.first] = parts.second;
}

std::vector<FlagSpec> flag_table(Options& o) {
  auto command = [&o](const char* name) {
    return [&o, name](const std::string&, const std::string&) { o.command = name; };
  };
  auto cache_location = [&o](const std::string& flag, const std::string& v) {
    Options::CacheLocation& loc = flag == "--cache-to" ? o.cache_to : o.cache_from;
    if (!loc.type.empty())
      throw UsageError(flag + " given twice", "one " + flag + " per build is supported");
    loc = parse_cache_location(flag, v);
  };
  return {
      {{"--help", "-h"}, false, command("help")},
      {{"--version", "-v"}, false, command("version")},
      {{"--show-recipe", "--show-dockerfile"}, false, command("show-recipe")},
      text_flag({"--target-arch"}, &o.target_arch),
      text_flag({"--platform"}, &o.platform),
      {{"--build-arg"},
       true,
       [&o](const std::string&, const std::string& v) { parse_build_arg(o, v); }},
      text_flag({"--recipe", "--dockerfile"}, &o.recipe_file),
      text_flag({"--target", "--target-stage"}, &o.target_stage),
      {{"--output", "-o"},
       true,
       [&o](const std::string& f, const std::string& v) { parse_output(o, f, v); }},
      {{"--cache-to"}, true, cache_location},
      {{"--cache-from"}, true, cache_location},
      text_flag({"--cache-dir"}, &o.cache_dir),
      switch_flag({"--no-cache"}, &o.no_cache),
      switch_flag({"--debug-image"}, &o.debug_image),
      text_flag({"--progress"}, &o.progress),
      {{"--insecure-registry"},
       true,
       [&o](const std::string&, const std::string& v) { o.insecure_registries.push_back(v); }},
      text_flag({"--registry-ca"}, &o.registry_ca),
      text_flag({"--creds"}, &o.creds),
      text_flag({"--builder"}, &o.builder.address),
      text_flag({"--builder-ca"}, &o.builder.ca_file),
      text_flag({"--builder-token"}, &o.builder.token),
      switch_flag({"--to-browser", "--to-js"}, &o.to_browser),
      text_flag({"--addr"}, &o.addr),
      switch_flag({"--all"}, &o.prune_all),
      {{"--keep-storage"},
       true,
       [&o](const std::string&, const std::string& v) { o.keep_storage = parse_size(v); }},
  };
}

}  // namespace

Options parse_options(int argc, const char* const* argv) {
  Options o;
  if (const char* b = std::getenv("C2W_BUILDER"); b && *b) o.builder.address = b;
  if (const char* t = std::getenv("C2W_BUILDER_TOKEN"); t && *t) o.builder.token = t;
  std::vector<std::string> positional = parse_flags(flag_table(o), argc, argv, 1, "see c2w --help");
  if (o.command == "convert" && !positional.empty() &&
      (positional[0] == "du" || positional[0] == "prune" || positional[0] == "serve")) {
    o.command = positional[0];
    positional.erase(positional.begin());
  }
  if (o.command == "du" || o.command == "prune") {
    if (!positional.empty()) throw UsageError("c2w " + o.command + " takes no arguments");
    return o;
  }
  if (o.command == "serve") {
    if (positional.size() != 1)
      throw UsageError("c2w serve takes one folder", "c2w serve DIR [--addr HOST:PORT]");
    o.serve_dir = positional[0];
    return o;
  }
  if (o.command != "convert") return o;
  if (o.to_browser && !o.output_type.empty())
    throw UsageError("--to-browser writes a folder; it does not combine with --output",
                     "c2w --to-browser IMAGE DIR");
  if (positional.size() > 2) throw UsageError("too many arguments", "c2w [options] IMAGE [OUTPUT]");
  if (!positional.empty()) o.image = positional[0];
  if (positional.size() == 2) o.output = positional[1];
  // With --target, a stage that needs no image (e.g. the kernel) may be built without one.
  if (o.image.empty() && !o.build_args.count("IMAGE") && o.target_stage.empty())
    throw UsageError("no image given", "c2w [options] IMAGE [OUTPUT], e.g. c2w busybox out.wasm");
  return o;
}

}  // namespace c2w::client
