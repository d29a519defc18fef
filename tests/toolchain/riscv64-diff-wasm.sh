#!/usr/bin/env bash
# The wasm32 build of the riscv64 core against qemu: rv64_diff prints reference results under
# qemu-riscv64-static, the wasm module recomputes them on our core (node:wasi) and exits with
# the number of mismatches.
set -euo pipefail
runner=$1 module=$2 guest=$3
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
qemu-riscv64-static "$guest" > "$dir/reference.txt"
node --no-warnings "$runner" "$module" --dir "$dir::/data" -- /data/reference.txt
