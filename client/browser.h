// The browser target's client side (web/README.md): a converted module becomes a folder a web
// server can serve as it is, and `c2w serve` is such a server with the headers a worker that
// blocks on terminal input needs (cross-origin isolation for SharedArrayBuffer).
//
// The pack op makes the same out.wasm for TARGET wasi and TARGET browser; the folder (our page,
// worker and WASI layer, vendored xterm.js, the module) is assembled here, at export, so a
// remote builder (c2wd) needs no change and the cache holds the module once.
#pragma once

#include <filesystem>
#include <string>

namespace c2w::client {

// Writes index.html, the scripts, xterm and `wasm` (copied as out.wasm) into `dir`, created if
// absent. Existing files of ours are replaced; other files in `dir` are left alone.
void export_browser(const std::filesystem::path& wasm, const std::filesystem::path& dir);

// Serves `dir` over HTTP on `addr` (HOST:PORT, e.g. 127.0.0.1:8080; port 0 picks one) until
// killed: GET and HEAD of files under dir, with COOP/COEP/CORP headers and the right types.
// Prints "c2w: serving DIR at http://HOST:PORT/" on stderr once listening.
int serve(const std::filesystem::path& dir, const std::string& addr);

}  // namespace c2w::client
