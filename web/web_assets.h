// The browser runner's files (web/), compiled into c2w: `c2w --to-browser` writes them next to
// the module. Names are file names in the output folder.
#pragma once

#include <string_view>
#include <vector>

namespace c2w::web {

struct Asset {
  std::string_view name;
  std::string_view data;
};

const std::vector<Asset>& assets();
// Whether xterm.js and xterm.css (npm @xterm/xterm) were there when c2w was built.
bool has_xterm();

}  // namespace c2w::web
