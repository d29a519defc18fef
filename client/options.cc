#include "client/options.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>

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
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0)
    throw UsageError("invalid size \"" + text + "\"", "write it like 10GB, 512MB or 1000000");
  double value = std::stod(text.substr(0, i));
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double mult = 1;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb")
    mult = 1e3;
  else if (unit == "m" || unit == "mb")
    mult = 1e6;
  else if (unit == "g" || unit == "gb")
    mult = 1e9;
  else if (unit == "t" || unit == "tb")
    mult = 1e12;
  else if (unit == "kib")
    mult = 1024.0;
  else if (unit == "mib")
    mult = 1024.0 * 1024;
  else if (unit == "gib")
    mult = 1024.0 * 1024 * 1024;
  else
    throw UsageError("invalid size unit in \"" + text + "\"",
                     "use B, KB, MB, GB, TB or KiB, MiB, GiB");
  return static_cast<uint64_t>(value * mult);
}

namespace {

// "k=v,k=v" of --output, --cache-to and --cache-from; keys outside `allowed` are refused.
std::map<std::string, std::string> parse_spec(const std::string& flag, const std::string& spec,
                                              const std::vector<std::string>& allowed,
                                              const std::string& hint) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string part =
        spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t eq = part.find('=');
    std::string k = part.substr(0, eq), v = eq == std::string::npos ? "" : part.substr(eq + 1);
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      throw UsageError("unknown " + flag + " key \"" + k + "\"", hint);
    out[k] = v;
    if (comma == std::string::npos) break;
    pos = comma + 1;
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

Options parse_options(int argc, const char* const* argv) {
  Options o;
  if (const char* b = std::getenv("C2W_BUILDER"); b && *b) o.builder.address = b;
  if (const char* t = std::getenv("C2W_BUILDER_TOKEN"); t && *t) o.builder.token = t;
  std::vector<std::string> positional;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    bool has_inline = false;
    if (a.starts_with("--") && a.find('=') != std::string::npos) {
      value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
      has_inline = true;
    }
    auto take = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
      return args[++i];
    };
    auto flag = [&] {
      if (has_inline) throw UsageError(a + " takes no value");
    };
    if (a == "--help" || a == "-h") {
      flag();
      o.command = "help";
    } else if (a == "--version" || a == "-v") {
      flag();
      o.command = "version";
    } else if (a == "--show-recipe" || a == "--show-dockerfile") {
      flag();
      o.command = "show-recipe";
    } else if (a == "--target-arch")
      o.target_arch = take();
    else if (a == "--platform")
      o.platform = take();
    else if (a == "--build-arg") {
      std::string kv = take();
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw UsageError("--build-arg needs NAME=VALUE, got \"" + kv + "\"");
      o.build_args[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (a == "--recipe" || a == "--dockerfile")
      o.recipe_file = take();
    else if (a == "--target" || a == "--target-stage")
      o.target_stage = take();
    else if (a == "--output" || a == "-o") {
      std::string spec = take();
      const std::string hint =
          "use --output type=local,dest=DIR or --output type=registry,ref=HOST/REPO:TAG";
      auto kv = parse_spec(a, spec, {"type", "dest", "ref"}, hint);
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
    } else if (a == "--cache-to" || a == "--cache-from") {
      Options::CacheLocation& loc = a == "--cache-to" ? o.cache_to : o.cache_from;
      if (!loc.type.empty())
        throw UsageError(a + " given twice", "one " + a + " per build is supported");
      loc = parse_cache_location(a, take());
    } else if (a == "--cache-dir")
      o.cache_dir = take();
    else if (a == "--no-cache") {
      flag();
      o.no_cache = true;
    } else if (a == "--debug-image") {
      flag();
      o.debug_image = true;
    } else if (a == "--progress")
      o.progress = take();
    else if (a == "--insecure-registry")
      o.insecure_registries.push_back(take());
    else if (a == "--registry-ca")
      o.registry_ca = take();
    else if (a == "--creds")
      o.creds = take();
    else if (a == "--builder")
      o.builder.address = take();
    else if (a == "--builder-ca")
      o.builder.ca_file = take();
    else if (a == "--builder-token")
      o.builder.token = take();
    else if (a == "--to-browser" || a == "--to-js") {
      flag();
      o.to_browser = true;
    } else if (a == "--addr")
      o.addr = take();
    else if (a == "--all") {
      flag();
      o.prune_all = true;
    } else if (a == "--keep-storage")
      o.keep_storage = parse_size(take());
    else if (a == "--") {
      positional.insert(positional.end(), args.begin() + long(i) + 1, args.end());
      break;
    } else if (a.starts_with("-") && a != "-")
      throw UsageError("unknown option " + a, "see c2w --help");
    else
      positional.push_back(args[i]);
  }
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
