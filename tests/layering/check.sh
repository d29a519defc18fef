#!/usr/bin/env bash
# Fails when an include points the wrong way between top-level folders (docs/DESIGN.md,
# "Layers"): a folder may include itself and the folders below it in LAYERS, never one above.
# Inside ops/ an op never includes another op (ops/registry.* lists them all); inside
# emulators/ the order is common < p9 < virtio < riscv64.
#   tests/layering/check.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"

# Bottom to top. "c2w" is the include prefix of the generated protobuf headers (proto/).
LAYERS=(base proto oci graph guest_protocol emulators runtime init context cache ownership erofs
        distribution frontend solver shared_cache ops web client daemon cmd)
EMULATORS=(common p9 virtio riscv64)

rank() {  # rank NAME LIST...: position of NAME in LIST, or -1
  local name=$1 i=0
  shift
  for x in "$@"; do
    [[ $x == "$name" ]] && { echo $i; return; }
    i=$((i + 1))
  done
  echo -1
}

bad=0
complain() { echo "layering: $1"; bad=1; }

for dir in "${LAYERS[@]}"; do
  [[ -d $dir ]] || complain "folder $dir/ is in LAYERS but does not exist (update LAYERS and docs/DESIGN.md)"
done
for dir in */; do
  dir=${dir%/}
  case $dir in build | tests | bench | tools | scripts | cmake | docs | node_modules) continue ;; esac
  [[ $(rank "$dir" "${LAYERS[@]}") -ge 0 ]] ||
    complain "folder $dir/ has no place in LAYERS (add it where its includes allow, and to docs/DESIGN.md)"
done

while IFS= read -r line; do
  file=${line%%:*}
  target=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"${line#*:}")
  from=${file%%/*}
  to=${target%%/*}
  [[ $to == c2w ]] && to=proto
  to_rank=$(rank "$to" "${LAYERS[@]}")
  ((to_rank >= 0)) || continue  # not a project header (e.g. a local "foo.h")
  from_rank=$(rank "$from" "${LAYERS[@]}")
  if ((to_rank > from_rank)); then
    complain "$file includes $target: $from/ is below $to/"
    continue
  fi
  if [[ $from == ops && $to == ops ]]; then
    a=$(cut -d/ -f2 <<<"$file")
    b=$(cut -d/ -f2 <<<"$target")
    [[ $a == "$b" || $a == registry.* || $a == CMakeLists.txt ]] ||
      complain "$file includes $target: an op never includes another op"
  fi
  if [[ $from == emulators && $to == emulators ]]; then
    a=$(rank "$(cut -d/ -f2 <<<"$file")" "${EMULATORS[@]}")
    b=$(rank "$(cut -d/ -f2 <<<"$target")" "${EMULATORS[@]}")
    ((b <= a)) || complain "$file includes $target: emulators/ order is ${EMULATORS[*]}"
  fi
done < <(find "${LAYERS[@]}" -name node_modules -prune -o \( -name '*.h' -o -name '*.cc' \) -print 2>/dev/null | sort |
         xargs -r grep -HE '^[[:space:]]*#[[:space:]]*include "' || true)

if ((bad)); then
  echo "layering: FAILED (the order is in tests/layering/check.sh and docs/DESIGN.md)"
  exit 1
fi
echo "layering: every include follows ${LAYERS[*]}"
