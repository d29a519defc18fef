#!/usr/bin/env bash
# c2w's outputs must run on node:wasi and on WasmEdge. One WASI module (tests/wasm/
# wasmedge_smoke.cc) runs on WasmEdge interpreted, on WasmEdge AOT-compiled (`wasmedge compile`,
# whose output is still a plain wasm module), and on node (tools/c2w-run.mjs), the plain and the
# AOT-compiled module both: arguments, --env, a preopened directory (read and write), stdin,
# stderr and the exit status must be the same everywhere.
#   wasmedge-smoke.sh TOOLS_WASMEDGE C2W_RUN_MJS MODULE.wasm
set -euo pipefail
wasmedge=$1 runner=$2 module=$3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

version=$("$wasmedge" --version 2>&1) || { echo "FAIL: $wasmedge --version: $version"; exit 1; }
[[ "$version" == "wasmedge version 0.14."* ]] || fail "unexpected version output: $version"
echo "${version%%$'\n'*}"

# AOT: native code in a custom section named "wasmedge"; node must still accept the module.
"$wasmedge" compile "$module" "$tmp/aot.wasm" > "$tmp/compile.log" 2>&1 ||
  { cat "$tmp/compile.log"; echo "FAIL: wasmedge compile"; exit 1; }
sections() {
  node -e 'const fs = require("fs");
    const m = new WebAssembly.Module(fs.readFileSync(process.argv[1]));
    console.log(WebAssembly.Module.customSections(m, "wasmedge").length)' "$1"
}
[[ $(sections "$module") == 0 ]] || fail "the plain module already has a wasmedge section"
[[ $(sections "$tmp/aot.wasm") == 1 ]] || fail "wasmedge compile wrote no AOT section"

mkdir "$tmp/share"
printf 'from the host\n' > "$tmp/share/in.txt"

# check TAG COMMAND...: runs COMMAND with stdin from a pipe, compares everything it does.
check() {
  local tag=$1 status=0
  shift
  printf 'from stdin\n' | "$@" > "$tmp/$tag.out" 2> "$tmp/$tag.err" || status=$?
  cat > "$tmp/$tag.want" <<EOF
arg1=$tag
arg2=two words
arg3=--not-a-flag
argc=4
env SMOKE_ENV=smoke value
environ entries=1
in.txt=from the host
stdin=from stdin
wrote /data/$tag.txt
EOF
  diff -u "$tmp/$tag.want" "$tmp/$tag.out" > "$tmp/$tag.diff" ||
    { fail "$tag: stdout differs"; cat "$tmp/$tag.diff"; }
  [[ "$(cat "$tmp/$tag.err")" == "smoke: on stderr" ]] ||
    { fail "$tag: stderr is not the module's one line:"; cat "$tmp/$tag.err"; }
  [[ $status -eq 7 ]] || fail "$tag: exit status $status, want 7"
  [[ "$(cat "$tmp/share/$tag.txt" 2>/dev/null)" == "written by $tag" ]] ||
    fail "$tag: the module's file did not reach the host directory"
  echo "$tag: done (status $status)"
}

args=("two words" --not-a-flag)
# WasmEdge maps --dir GUEST:HOST; c2w-run.mjs takes --dir HOST::GUEST.
check wasmedge-interp "$wasmedge" --dir "/data:$tmp/share" --env "SMOKE_ENV=smoke value" \
  "$module" wasmedge-interp "${args[@]}"
check wasmedge-aot "$wasmedge" --dir "/data:$tmp/share" --env "SMOKE_ENV=smoke value" \
  "$tmp/aot.wasm" wasmedge-aot "${args[@]}"
check node node --no-warnings "$runner" "$module" --dir "$tmp/share::/data" \
  --env "SMOKE_ENV=smoke value" -- node "${args[@]}"
check node-aot node --no-warnings "$runner" "$tmp/aot.wasm" --dir "$tmp/share::/data" \
  --env "SMOKE_ENV=smoke value" -- node-aot "${args[@]}"

if ((failures)); then
  echo "wasmedge smoke: $failures check(s) failed"
  exit 1
fi
echo "wasmedge smoke: all checks passed"
