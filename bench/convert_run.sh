#!/usr/bin/env bash
# Benchmark: the product's main job and its output.
#  - conversion wall time of `c2w IMAGE out.wasm`: cold (empty cache but the kernel), and fully
#    cached; the kernel build itself is timed by make-kernel (minutes, once per machine);
#  - out.wasm size against the unpacked rootfs;
#  - wall time of `out.wasm echo hello` from process start to exit on node and WasmEdge AOT,
#    against the native runner on the same snapshot (c2w-vm run --restore) in the same run.
# Prints figures; never passes or fails on time.
#   bench/convert_run.sh [BUILD_DIR] [IMAGE...]   (default images: busybox debian)
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
shift || true
images=("${@:-busybox}")
[[ $# -eq 0 ]] && images=(busybox debian)
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${C2W_FIXTURES:-$HOME/.cache/c2w-fixtures}
c2w=$build/cmd/c2w
vm=$build/cmd/c2w-vm/c2w-vm
[[ -x $vm ]] || vm=$build/cmd/c2w-vm
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=bench/timing.sh
source "$root/bench/timing.sh"

printf '%-8s %-28s %10s\n' image measure value
for image in "${images[@]}"; do
  layout=$fixtures/$image/layout
  [[ -d $layout ]] || { echo "no fixture $layout (run scripts/test once)"; exit 1; }
  cache=$work/cache-$image
  cp -a "$fixtures/c2w-cache" "$cache"
  out=$work/$image.wasm
  t0=$(now); "$c2w" --cache-dir "$cache" --progress=plain "oci-layout:$layout" "$out" >"$work/log" 2>&1 || { tail -30 "$work/log"; exit 1; }
  t1=$(now)
  "$c2w" --cache-dir "$cache" --progress=plain "oci-layout:$layout" "$out" >/dev/null 2>&1
  t2=$(now)
  "$c2w" --cache-dir "$cache" --target boot --output "type=local,dest=$work/boot-$image" "oci-layout:$layout" >/dev/null 2>&1
  printf '%-8s %-28s %9ss\n' "$image" "convert (kernel cached)" "$(secs "$t0" "$t1")"
  printf '%-8s %-28s %9ss\n' "$image" "convert (fully cached)" "$(secs "$t1" "$t2")"
  printf '%-8s %-28s %8sMB\n' "$image" "rootfs unpacked" "$(du -sm "$fixtures/$image/rootfs" | cut -f1)"
  printf '%-8s %-28s %8sMB\n' "$image" "out.wasm" "$(( $(stat -c %s "$out") >> 20 ))"
  "$root/tools/wasmedge" compile "$out" "$work/$image.aot.wasm" >/dev/null 2>&1
  native=$(timed secs 5 "$vm" run --restore "$work/boot-$image/snapshot.c2wsnap" -- echo hello)
  node=$(timed secs 5 node --no-warnings "$root/tools/c2w-run.mjs" "$out" -- echo hello)
  edge=$(timed secs 5 "$root/tools/wasmedge" "$work/$image.aot.wasm" echo hello)
  printf '%-8s %-28s %9ss\n' "$image" "echo hello, native runner" "$native"
  printf '%-8s %-28s %9ss  (%.1fx native)\n' "$image" "echo hello, node" "$node" "$(echo "$node / $native" | bc -l)"
  printf '%-8s %-28s %9ss  (%.1fx native)\n' "$image" "echo hello, wasmedge AOT" "$edge" "$(echo "$edge / $native" | bc -l)"
  rm -rf "$cache"
done
