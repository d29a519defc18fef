#!/usr/bin/env bash
# Benchmark: building through c2wd (unix socket) against building in process, same run:
#  - a fully cached `c2w IMAGE out.wasm` (busybox fixture): in process vs through c2wd, the
#    difference is what the daemon costs (goal: at most +100 ms);
#  - uploading a local OCI layout with a 100 MB incompressible layer to an empty builder
#    (MB/s as the client reports it), next to reading the same layout in process;
#  - 8 fully cached builds at once through one c2wd: total wall time against one build.
# Prints figures; never passes or fails on time.
#   bench/c2wd.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
runs=${2:-5}
fixtures=${C2W_FIXTURES:-$HOME/.cache/c2w-fixtures}
c2w=$build/cmd/c2w
c2wd=$build/cmd/c2wd
mkimage=$build/tests/fixtures/mkimage/c2w-mkimage
layout=$fixtures/busybox/layout
[[ -d $layout && -d $fixtures/c2w-cache ]] || { echo "no fixtures in $fixtures (run scripts/test once)"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/timing.sh
source "$(dirname "$0")/timing.sh"
start_daemon() {  # start_daemon NAME CACHE_DIR -> sets $addr
  addr="unix://$work/$1.sock"
  "$c2wd" --addr "$addr" --cache-dir "$2" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do grep -q "serving on" "$work/$1.log" && return; sleep 0.05; done
  echo "c2wd did not start:"; cat "$work/$1.log"; exit 1
}

# One cache with the kernel, shared by the in-process builds and the daemon (the store is
# safe for concurrent processes), warmed by one build.
cp -a "$fixtures/c2w-cache" "$work/cache"
start_daemon warm "$work/cache"
warm=$addr
"$c2w" --cache-dir "$work/cache" --progress=plain "oci-layout:$layout" "$work/warm.wasm" >"$work/warm.out" 2>&1
"$c2w" --builder "$warm" --cache-dir "$work/client" --progress=plain "oci-layout:$layout" \
  "$work/warm2.wasm" >"$work/warm2.out" 2>&1
cmp -s "$work/warm.wasm" "$work/warm2.wasm" || { echo "remote and in-process bytes differ"; exit 1; }

printf '%-52s %12s\n' measure value
inproc=$(timed ms "$runs" "$c2w" --cache-dir "$work/cache" --progress=plain "oci-layout:$layout" "$work/a.wasm")
remote=$(timed ms "$runs" "$c2w" --builder "$warm" --cache-dir "$work/client" --progress=plain \
  "oci-layout:$layout" "$work/b.wasm")
printf '%-52s %10s ms\n' "fully cached busybox, in process (median of $runs)" "$inproc"
printf '%-52s %10s ms\n' "fully cached busybox, through c2wd (median of $runs)" "$remote"
printf '%-52s %+10d ms\n' "c2wd overhead (goal <= +100 ms)" "$((remote - inproc))"

# 8 at once against one, all fully cached.
one=$(timed ms 3 "$c2w" --builder "$warm" --cache-dir "$work/client" --progress=plain \
  "oci-layout:$layout" "$work/one.wasm")
eight() {
  local ps=()
  for i in $(seq 8); do
    "$c2w" --builder "$warm" --cache-dir "$work/client" --progress=plain "oci-layout:$layout" \
      "$work/c$i.wasm" >"$work/c$i.out" 2>&1 &
    ps+=($!)
  done
  local rc=0
  for p in "${ps[@]}"; do wait "$p" || rc=1; done
  return $rc
}
all=$(timed ms 3 eight)
for i in $(seq 8); do cmp -s "$work/c$i.wasm" "$work/warm.wasm" || { echo "client $i got other bytes"; exit 1; }; done
printf '%-52s %10s ms\n' "1 fully cached build through c2wd (median of 3)" "$one"
printf '%-52s %10s ms\n' "8 at once through one c2wd, wall (median of 3)" "$all"
printf '%-52s %10.2f x\n' "8 at once / one" "$(echo "$all / $one" | bc -l)"

# A 100 MB local image: an empty builder gets every byte, through the socket.
mkdir -p "$work/big/tree"
head -c 100000000 /dev/urandom >"$work/big/tree/blob"
echo '{"Cmd":["/bin/sh"]}' >"$work/big/config.json"
"$mkimage" image --layout "$work/big/layout" --tag latest --platform linux/riscv64 \
  --config "$work/big/config.json" --layer "none:$work/big/tree" >/dev/null
start_daemon empty "$work/empty-cache"
a=$(now)
"$c2w" --builder "$addr" --cache-dir "$work/client-big" --progress=plain --target rootfs \
  --output "type=local,dest=$work/big-remote" "oci-layout:$work/big/layout" >"$work/big.out" 2>&1
b=$(now)
rate=$(grep -o 'sent [0-9]* of [0-9]* blobs.*MB/s' "$work/big.out" | tail -1)
a2=$(now)
"$c2w" --cache-dir "$work/inproc-big" --progress=plain --target rootfs \
  --output "type=local,dest=$work/big-local" "oci-layout:$work/big/layout" >"$work/big-local.out" 2>&1
b2=$(now)
cmp -s "$work/big-remote/rootfs.cpio.zst" "$work/big-local/rootfs.cpio.zst" || { echo "big rootfs differs"; exit 1; }
printf '%-52s %s\n' "100 MB layout to an empty c2wd: upload" "$rate"
printf '%-52s %10s ms\n' "100 MB layout, rootfs through c2wd (upload incl.)" "$(ms "$a" "$b")"
printf '%-52s %10s ms\n' "100 MB layout, rootfs in process" "$(ms "$a2" "$b2")"
