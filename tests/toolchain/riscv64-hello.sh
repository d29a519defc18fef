#!/usr/bin/env bash
# The riscv64 guest part: the static `hello` fixture program runs under qemu-riscv64-static
# with its arguments, environment and exit status intact.
set -euo pipefail
hello=$1
file "$hello" | grep -q 'RISC-V.*statically linked' || { echo "FAIL: not a static riscv64 ELF: $(file "$hello")"; exit 1; }
set +e
out=$(HELLO_ENV=set-by-test qemu-riscv64-static "$hello" one --exit 5 --stderr to-stderr 2>/dev/null)
status=$?
err=$(qemu-riscv64-static "$hello" --stderr to-stderr 2>&1 >/dev/null)
set -e
echo "$out"
[[ $status -eq 5 ]] || { echo "FAIL: exit status $status, want 5"; exit 1; }
grep -qx 'arg1=one' <<<"$out" || { echo "FAIL: arg1 missing"; exit 1; }
grep -qx 'env HELLO_ENV=set-by-test' <<<"$out" || { echo "FAIL: env missing"; exit 1; }
[[ "$err" == to-stderr ]] || { echo "FAIL: stderr was '$err'"; exit 1; }
echo "riscv64 hello: all checks passed"
