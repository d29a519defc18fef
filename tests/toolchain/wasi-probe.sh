#!/usr/bin/env bash
# The wasm32-wasi part runs on Node's node:wasi through tools/c2w-run.mjs: arguments,
# environment, a preopened directory (read and write), clocks and poll_oneoff.
set -euo pipefail
runner=$1 module=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
echo from-host > "$dir/in.txt"
node --no-warnings "$runner" "$module" --dir "$dir::/shared" --env PROBE_ENV=probe-value -- \
  probe-arg /shared
grep -qx from-wasm "$dir/out.txt" || { echo "FAIL: module's write did not reach the host dir"; exit 1; }
# A module's exit status is the runner's.
set +e
node --no-warnings "$runner" "$module" --dir "$dir::/shared" -- wrong-arg /shared >/dev/null
status=$?
set -e
[[ $status -eq 2 ]] || { echo "FAIL: expected exit status 2 (two failed checks), got $status"; exit 1; }
echo "wasi probe: all checks passed"
