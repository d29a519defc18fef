#!/usr/bin/env bash
# The 9P server's wasm32-wasi build on node:wasi: a session over a preopened directory, with
# symlinks planted to a file outside the share that must stay untouched.
set -euo pipefail
runner=$1 module=$2
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/share/many" "$dir/share/sub" "$dir/outside"
for i in $(seq 0 29); do : > "$dir/share/many/file-$i"; done
echo inside > "$dir/share/sub/secret"
echo "top secret" > "$dir/outside/secret"
ln -s ../outside/secret "$dir/share/rel"
ln -s ../outside "$dir/share/reldir"
status=0
node --no-warnings "$runner" "$module" --dir "$dir::/work" -- /work || status=$?
[[ "$(cat "$dir/outside/secret")" == "top secret" ]] || { echo "FAIL: outside file changed"; exit 1; }
[[ ! -e "$dir/share/sub.old/planted" ]] || { echo "FAIL: created through a swapped symlink"; exit 1; }
[[ -e "$dir/share/sub.old/secret" ]] || { echo "FAIL: unlinked through a swapped symlink"; exit 1; }
exit $status
