// XXH3-128 for internal keys (cache keys, op digests, tree ids): "xxh3:<32 hex>".
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace c2w {

std::string xxh3_digest(std::string_view data);

// A key from parts: each part is length-prefixed, so ("ab","c") and ("a","bc") differ.
std::string xxh3_key(const std::vector<std::string_view>& parts);

}  // namespace c2w
