// The c2w command line, compatible with container2wasm where it overlaps:
//   c2w [options] IMAGE [OUTPUT]        convert (OUTPUT defaults to out.wasm)
//   c2w du                              show what the cache holds
//   c2w prune [--keep-storage SIZE] [--all]
//   c2w --to-browser IMAGE [DIR]        a folder to serve to a browser (client/browser.h)
//   c2w serve DIR [--addr HOST:PORT]    serve such a folder with cross-origin isolation
// c2w flags: --target-arch, --build-arg K=V, --show-recipe (--show-dockerfile), --debug-image,
// --version, --help; --recipe FILE replaces c2w's --dockerfile. Ours: --cache-dir, --no-cache,
// --progress, --insecure-registry HOST, --registry-ca FILE, --creds USER:PASS, --platform,
// --target STAGE, --output type=local,dest=DIR or type=registry,ref=REF, --cache-to and
// --cache-from type=registry,ref=REF or type=local,dest|src=DIR, --builder ADDR (c2wd) with
// --builder-ca and
// --builder-token (also C2W_BUILDER, C2W_BUILDER_TOKEN).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/flags.h"
#include "client/remote.h"

namespace c2w::client {

struct Options {
  std::string command = "convert";  // convert, du, prune, serve, show-recipe, version, help
  std::string image;
  std::string output;  // OUTPUT path; empty: out.wasm (or none with --output)
  std::string recipe_file;
  std::map<std::string, std::string> build_args;
  std::string target_arch;  // --target-arch
  std::string platform;     // --platform os/arch
  std::string target_stage;
  std::string output_type;  // from --output type=...,dest=... (local) or ref=... (registry)
  std::string output_dest;
  std::string output_ref;
  // --cache-to / --cache-from: type "registry" (ref) or "local" (dir, tag); empty type: none.
  struct CacheLocation {
    std::string type, ref, dir, tag;
  };
  CacheLocation cache_to, cache_from;
  std::string cache_dir;
  bool no_cache = false;
  bool debug_image = false;
  std::string progress = "auto";
  std::vector<std::string> insecure_registries;
  std::string registry_ca;
  std::string creds;
  BuilderOptions builder;   // --builder ADDR (C2W_BUILDER), --builder-ca, --builder-token
  bool to_browser = false;  // --to-browser / --to-js: OUTPUT is a folder
  std::string serve_dir;    // c2w serve DIR
  std::string addr = "127.0.0.1:8080";  // c2w serve --addr
  bool prune_all = false;
  uint64_t keep_storage = 0;
};

// A command-line mistake: printed with the usage line, exit status 2 (base/flags.h).
using UsageError = c2w::UsageError;

Options parse_options(int argc, const char* const* argv);
std::string usage_text();
// "10GB", "512MiB", "100m", "1234" -> bytes; throws UsageError.
uint64_t parse_size(const std::string& text);

}  // namespace c2w::client
