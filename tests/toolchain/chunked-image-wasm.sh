#!/usr/bin/env bash
# Chunked disk images made by the native writer decode in the wasm32 build (on node:wasi) to
# the bytes the writer was given, and a corrupt chunk is one clear error line there.
set -euo pipefail
runner=$1 module=$2 native=$3
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
want=$("$native" make "$dir")
native_out=$("$native" check "$dir/disk.c2wdisk")
wasm_out=$(node --no-warnings "$runner" "$module" --dir "$dir::/d" -- check /d/disk.c2wdisk)
if [[ "$native_out" != "$want" || "$wasm_out" != "$want" ]]; then
  echo "FAIL: digests differ"
  diff <(echo "$want") <(echo "$native_out") || true
  diff <(echo "$want") <(echo "$wasm_out") || true
  exit 1
fi
[[ $(wc -l <<<"$want") -eq 4 ]] || { echo "FAIL: $want"; exit 1; }
status=0
bad=$(node --no-warnings "$runner" "$module" --dir "$dir::/d" -- check /d/bad.c2wdisk) || status=$?
[[ $status -eq 1 && "$bad" == "error: chunk 5 of the disk image"*"is corrupt: "* ]] ||
  { echo "FAIL: a corrupt chunk gave status $status and: $bad"; exit 1; }
echo "chunked image: wasm32 and native decode the same bytes ($(tr '\n' ' ' <<<"$want"))"
echo "corrupt chunk in wasm32: $bad"
