#!/usr/bin/env bash
# The init protocol encodes the same bytes in wasm32 (on node:wasi) as natively, and both
# builds decode what they encode.
set -euo pipefail
runner=$1 module=$2 native=$3
native_out=$("$native")
wasm_out=$(node --no-warnings "$runner" "$module")
if [[ "$native_out" != "$wasm_out" ]]; then
  echo "FAIL: wasm32 and native encodings differ"; diff <(echo "$native_out") <(echo "$wasm_out"); exit 1
fi
[[ $(grep -c ' roundtrip$' <<<"$native_out") -eq 7 ]] || { echo "FAIL: $native_out"; exit 1; }
echo "guest protocol: wasm32 and native agree on $(wc -l <<<"$native_out") frames"
