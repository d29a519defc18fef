#!/usr/bin/env bash
# The layering check must fail on a wrong-way include, an op including another op and a
# folder it does not know, and pass on a tree that follows the order.
set -euo pipefail
check=$(cd "$(dirname "$0")" && pwd)/check.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
make_tree() {
  rm -rf "$work/t"
  mkdir -p "$work/t"
  for d in base proto oci graph guest_protocol emulators/common emulators/riscv64 runtime init \
           context cache ownership erofs distribution frontend solver shared_cache ops/fetch \
           ops/unpack web client daemon cmd; do
    mkdir -p "$work/t/$d"
  done
  echo '#include "base/error.h"' >"$work/t/cmd/main.cc"
  echo '#include "emulators/common/fdt.h"' >"$work/t/emulators/riscv64/machine.cc"
  echo '#include "ops/fetch/fetch_op.h"' >"$work/t/ops/fetch/fetch_op.cc"
}
expect() {  # expect ok|fail WHAT
  local rc=0
  "$check" "$work/t" >"$work/out" 2>&1 || rc=$?
  if [[ $1 == ok && $rc -ne 0 || $1 == fail && $rc -eq 0 ]]; then
    echo "FAIL: expected $1 for $2:"; cat "$work/out"; exit 1
  fi
  echo "ok: $2"
}
make_tree; expect ok "a tree that follows the order"
make_tree; echo '#include "solver/op.h"' >"$work/t/cache/store.h"; expect fail "cache including solver"
make_tree; echo '#include "ops/unpack/unpack.h"' >"$work/t/ops/fetch/x.cc"; expect fail "an op including another"
make_tree; echo '#include "emulators/riscv64/cpu.h"' >"$work/t/emulators/common/x.h"; expect fail "common including riscv64"
make_tree; mkdir "$work/t/stray"; expect fail "an unknown folder"
echo "5 passed, 0 failed"
