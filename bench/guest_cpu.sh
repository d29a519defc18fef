#!/usr/bin/env bash
# Benchmark: guest CPU speed of every machine that runs c2w's riscv64 guests, on the same
# program (bench/guest/cpubench.cc) and the same kernel:
#   qemu      qemu-system-riscv64 (TCG, OpenSBI) booting the kernel with cpubench as /init
#   c2w-emu   our native emulator, same kernel and initramfs
#   c2w-vm    our native container runner, restoring the boot snapshot of an image that holds
#             cpubench (c2w --target boot), then `run -- /cpubench`
#   node      that image converted by c2w to out.wasm, on node:wasi (tools/c2w-run.mjs)
#   wasmedge  the same out.wasm after `wasmedge compile` (AOT)
#   chromium  the same image through `c2w --to-browser` (the same out.wasm and its page), served
#             by `c2w serve` and run in headless Chromium by bench/browser_run.mjs
# Prints guest seconds per part (timed inside the guest) with ratios to qemu, guest MIPS
# (instruction counts from c2w-emu's instret, the same program on every machine), the wall
# time from launch to cpubench's first line (boot for qemu and c2w-emu, restore for the rest),
# and the issue's goals as ratios. Prints figures; never passes or fails on time.
#
#   bench/guest_cpu.sh [BUILD_DIR]          (default: build)
# Environment:
#   CPUBENCH=PATH           the riscv64 cpubench (default BUILD_DIR/guest/bench/guest/cpubench)
#   C2W_KERNEL=PATH         kernel Image (default ~/.cache/c2w-fixtures/kernel-riscv64/Image)
#   C2W_FIXTURES=DIR        fixtures (default ~/.cache/c2w-fixtures); its c2w-cache seeds the
#                           conversion cache so the kernel is not rebuilt
#   CPUBENCH_SCALE=N        multiply cpubench's work (default 1: about 1 s per part on qemu)
#   CPUBENCH_RUNNERS="..."  subset of: qemu c2w-emu c2w-vm node wasmedge chromium (default all)
#   C2W_CHROMIUM=PATH       Chromium for the chromium runner (default /usr/bin/chromium)
#   CPUBENCH_KEEP=1         keep the work directory (printed) for a look at the logs
# Runners whose tools are missing are skipped with a note.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${C2W_FIXTURES:-$HOME/.cache/c2w-fixtures}
kernel=${C2W_KERNEL:-$fixtures/kernel-riscv64/Image}
cpubench=${CPUBENCH:-$build/guest/bench/guest/cpubench}
scale=${CPUBENCH_SCALE:-1}
read -ra runners <<< "${CPUBENCH_RUNNERS:-qemu c2w-emu c2w-vm node wasmedge chromium}"
limit=3600  # seconds per runner, a guard against a hung guest only
c2w=$build/cmd/c2w
emu=$build/cmd/c2w-emu
vm=$build/cmd/c2w-vm
mkimage=$build/tests/fixtures/mkimage/c2w-mkimage
[[ -x $vm ]] || vm=$build/cmd/c2w-vm/c2w-vm

[[ -x $cpubench ]] || { echo "guest_cpu: no cpubench at $cpubench (build the guest part, or set CPUBENCH)" >&2; exit 1; }
[[ -f $kernel ]] || { echo "guest_cpu: no kernel at $kernel (set C2W_KERNEL)" >&2; exit 1; }
work=$(mktemp -d)
serve_pid=""  # `c2w serve` for the chromium runner
cleanup() {
  if [[ -n $serve_pid ]]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  if [[ -z ${CPUBENCH_KEEP:-} ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
[[ -z ${CPUBENCH_KEEP:-} ]] || echo "guest_cpu: work directory $work"
results=$work/results  # lines: RUNNER PART SECONDS CHECKSUM INSNS | RUNNER @first SECONDS | RUNNER @wall SECONDS
: > "$results"
note() { echo "note: $*"; }
want() { [[ " ${runners[*]} " == *" $1 "* ]]; }

# ---- a newc initramfs: /init = cpubench, /dev/console = char 5:1 (no root needed: the device
# node is only a header). Entries: name mode size rdevmajor rdevminor [file].
newc_entry() {
  local name=$1 mode=$2 size=$3 rmaj=$4 rmin=$5 file=${6:-}
  local namesize=$(( ${#name} + 1 ))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$((++ino))" "$mode" 0 0 1 0 "$size" 0 0 "$rmaj" "$rmin" "$namesize" 0
  printf '%s\0' "$name"
  head -c $(( (4 - (110 + namesize) % 4) % 4 )) /dev/zero
  if [[ -n $file ]]; then
    cat "$file"
    head -c $(( (4 - size % 4) % 4 )) /dev/zero
  fi
}
ino=0
{
  newc_entry dev $((0040755)) 0 0 0
  newc_entry dev/console $((0020600)) 0 5 1
  newc_entry init $((0100755)) "$(stat -c %s "$cpubench")" 0 0 "$cpubench"
  newc_entry TRAILER!!! 0 0 0 0
} > "$work/init.cpio"

# run_logged RUNNER CMD...: runs CMD with stdin from /dev/null, timestamps each output line,
# records launch-to-first-line and wall times and the parsed part lines.
run_logged() {
  local name=$1; shift
  local log=$work/$name.log start
  echo "running $name ..."
  start=$EPOCHREALTIME
  timeout "$limit" "$@" </dev/null 2>&1 | while IFS= read -r line; do
    printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"
  done > "$log" || true
  local end=$EPOCHREALTIME
  if ! grep -q ' total ' "$log"; then
    note "$name did not finish; its last lines:"; tail -5 "$log" | cut -d' ' -f2- | sed 's/^/  /'
    return 0
  fi
  awk -v r="$name" -v s="$start" -v e="$end" '
    $2 == "cpubench" && $3 == "start" && !first { first = $1 - s }
    $2 ~ /^(crc32|qsort|matmul|string|syscall|total)$/ { print r, $2, $3, $4, $5 }
    END { printf "%s @first %.3f\n%s @wall %.3f\n", r, first, r, e - s }' "$log" >> "$results"
}

# ---- qemu and c2w-emu: boot the kernel with cpubench as /init
append="console=hvc0 earlycon=sbi panic=-1 quiet -- --scale $scale"
if want qemu; then
  if command -v qemu-system-riscv64 >/dev/null; then
    run_logged qemu qemu-system-riscv64 -M virt -bios default -m 256M -smp 1 -nographic \
      -no-reboot -kernel "$kernel" -initrd "$work/init.cpio" -append "$append"
  else note "qemu-system-riscv64 not installed: no qemu column"; fi
fi
if want c2w-emu; then
  if [[ -x $emu ]]; then
    run_logged c2w-emu "$emu" --kernel "$kernel" --initrd "$work/init.cpio" --memory 256M \
      --append "$append"
  else note "no $emu: no c2w-emu column"; fi
fi

# ---- an image holding cpubench, its boot snapshot and out.wasm
snapshot="" module=""
if want c2w-vm || want node || want wasmedge || want chromium; then
  if [[ -x $c2w && -x $mkimage ]]; then
    mkdir -p "$work/tree" "$work/cache"
    install -m 755 "$cpubench" "$work/tree/cpubench"
    echo '{"Cmd":["/cpubench"],"Env":["PATH=/"]}' > "$work/config.json"
    "$mkimage" image --layout "$work/layout" --tag latest --platform linux/riscv64 \
      --config "$work/config.json" --layer "gzip:$work/tree" >/dev/null
    if [[ -d $fixtures/c2w-cache ]]; then cp -a "$fixtures/c2w-cache/." "$work/cache/"
    else note "no $fixtures/c2w-cache: the conversion builds the kernel (minutes)"; fi
    if "$c2w" --cache-dir "$work/cache" --progress=plain --target boot \
        --output "type=local,dest=$work/boot" "oci-layout:$work/layout" >"$work/boot.log" 2>&1; then
      snapshot=$work/boot/snapshot.c2wsnap
    else note "c2w --target boot failed: $(grep -m1 'error' "$work/boot.log" || tail -1 "$work/boot.log")"; fi
    if want node || want wasmedge || want chromium; then
      if "$c2w" --cache-dir "$work/cache" --progress=plain "oci-layout:$work/layout" \
          "$work/out.wasm" >"$work/convert.log" 2>&1; then
        module=$work/out.wasm
      else note "c2w IMAGE out.wasm failed, no node/wasmedge/chromium columns: $(grep -m1 'error' "$work/convert.log" || tail -1 "$work/convert.log")"; fi
    fi
  else note "no $c2w or $mkimage: no c2w-vm, node, wasmedge or chromium columns"; fi
fi
args=(/cpubench --scale "$scale")
if want c2w-vm && [[ -n $snapshot ]]; then
  if [[ -x $vm ]]; then run_logged c2w-vm "$vm" run --restore "$snapshot" -- "${args[@]}"
  else note "no $vm: no c2w-vm column"; fi
fi
if want node && [[ -n $module ]]; then
  if command -v node >/dev/null; then run_logged node node "$root/tools/c2w-run.mjs" "$module" -- "${args[@]}"
  else note "node not installed: no node column"; fi
fi
if want wasmedge && [[ -n $module ]]; then
  if "$root/tools/wasmedge" --version >/dev/null 2>&1; then
    t0=$EPOCHREALTIME
    if "$root/tools/wasmedge" compile "$module" "$work/aot.wasm" >"$work/aot.log" 2>&1; then
      echo "wasmedge @compile $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')" >> "$results"
      run_logged wasmedge "$root/tools/wasmedge" "$work/aot.wasm" "${args[@]}"
    else note "wasmedge compile failed: $(tail -1 "$work/aot.log")"; fi
  else note "tools/wasmedge does not run (scripts/setup installs it): no wasmedge column"; fi
fi
# chromium: the browser folder of the same image (the cached pack: the same out.wasm), served
# with the isolation headers; the page gets cpubench's arguments through its URL.
chromium=${C2W_CHROMIUM:-/usr/bin/chromium}
if want chromium && [[ -n $module ]]; then
  if ! command -v node >/dev/null; then note "node not installed: no chromium column"
  elif [[ ! -x $chromium ]]; then note "no chromium at $chromium (scripts/setup installs it, or set C2W_CHROMIUM): no chromium column"
  elif [[ ! -d $root/web/node_modules/playwright-core ]]; then note "no playwright-core in web/node_modules (scripts/setup installs it): no chromium column"
  elif ! "$c2w" --cache-dir "$work/cache" --progress=plain --to-browser "oci-layout:$work/layout" \
      "$work/site" >"$work/browser.log" 2>&1; then
    note "c2w --to-browser failed, no chromium column: $(grep -m1 'error' "$work/browser.log" || tail -1 "$work/browser.log")"
  else
    cmp -s "$module" "$work/site/out.wasm" || note "the browser folder's out.wasm differs from out.wasm (measuring it anyway)"
    "$c2w" serve "$work/site" --addr 127.0.0.1:0 >/dev/null 2>"$work/serve.log" &
    serve_pid=$!
    url=""
    for _ in $(seq 100); do  # it prints its address once it listens
      url=$(sed -n 's|^c2w: serving .* at \(http://[^ ]*\).*|\1|p' "$work/serve.log")
      [[ -z $url ]] && kill -0 "$serve_pid" 2>/dev/null && sleep 0.1 || break
    done
    if [[ -n $url ]]; then
      query="" ; for a in "${args[@]}"; do query+="${query:+&}arg=$a"; done  # no characters to escape
      run_logged chromium node "$root/bench/browser_run.mjs" "$url?$query" $((limit - 30))
    else note "c2w serve did not start, no chromium column: $(tail -1 "$work/serve.log")"; fi
    kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; serve_pid=""
  fi
fi

# ---- the tables
echo
echo "cpubench --scale $scale: $(nproc) host cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
awk '
  { if ($2 ~ /^@/) extra[$1, $2] = $3; else { secs[$1, $2] = $3; sum[$1, $2] = $4; insn[$1, $2] = $5 }
    if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
  function cell(r, p,   s, q) {
    if (!((r, p) in secs)) return sprintf("%16s", "-")
    s = secs[r, p]; q = secs["qemu", p]
    if (r == "qemu" || q == "" || q == 0) return sprintf("%16.2f", s)
    return sprintf("%9.2f %5.1fx", s, s / q)
  }
  END {
    split("crc32 qsort matmul string syscall total", parts, " ")
    printf "\nguest seconds per part (ratio to qemu)\n%-8s", "part"
    for (i = 0; i < n; i++) printf " %16s", order[i]
    printf "\n"
    for (j = 1; j <= 6; j++) {
      p = parts[j]; printf "%-8s", p
      for (i = 0; i < n; i++) printf " %s", cell(order[i], p)
      printf "\n"
    }
    # Checksums: every runner must print the same ones.
    bad = ""
    for (j = 1; j <= 5; j++) {
      p = parts[j]; ref = ""
      for (i = 0; i < n; i++) if ((order[i], p) in sum) {
        if (ref == "") ref = sum[order[i], p]
        else if (sum[order[i], p] != ref) bad = bad " " p "(" order[i] ")"
      }
    }
    print (bad == "" ? "checksums: all runners agree" : "checksums DIFFER:" bad)

    # MIPS from the instruction counts of c2w-emu (exact instret), else c2w-vm.
    src = ("c2w-emu", "total") in insn && insn["c2w-emu", "total"] != "-" ? "c2w-emu" : \
          (("c2w-vm", "total") in insn && insn["c2w-vm", "total"] != "-" ? "c2w-vm" : "")
    if (src != "") {
      printf "\nguest MIPS (instructions: %s instret, all privilege levels, same program everywhere)\n%-8s %10s", src, "part", "M insns"
      for (i = 0; i < n; i++) printf " %9s", order[i]
      printf "\n"
      for (j = 1; j <= 6; j++) {
        p = parts[j]; printf "%-8s %10.0f", p, insn[src, p] / 1e6
        for (i = 0; i < n; i++)
          if ((order[i], p) in secs && secs[order[i], p] > 0) printf " %9.0f", insn[src, p] / secs[order[i], p] / 1e6
          else printf " %9s", "-"
        printf "\n"
      }
    } else print "\nguest MIPS: no instruction counts (no c2w-emu or c2w-vm run with readable instret)"

    printf "\nwall seconds      "
    for (i = 0; i < n; i++) printf " %9s", order[i]
    printf "\nlaunch->1st line  "
    for (i = 0; i < n; i++) printf " %9.2f", extra[order[i], "@first"]
    printf "   (qemu, c2w-emu: kernel boot; others: snapshot restore; chromium: browser start, fetch, compile too)\nlaunch->exit      "
    for (i = 0; i < n; i++) printf " %9.2f", extra[order[i], "@wall"]
    printf "\n"
    if (("wasmedge", "@compile") in extra) printf "wasmedge compile (AOT) of out.wasm: %.2f s\n", extra["wasmedge", "@compile"]

    q = secs["qemu", "total"]; nat = ("c2w-vm", "total") in secs ? "c2w-vm" : "c2w-emu"
    printf "\nissue goals (guest total time; figures, not verdicts)\n"
    if (q > 0 && ("c2w-emu", "total") in secs) printf "  c2w-emu  / qemu     = %5.2fx   (goal <= 1.5x)\n", secs["c2w-emu", "total"] / q
    if (q > 0 && ("c2w-vm", "total") in secs)  printf "  c2w-vm   / qemu     = %5.2fx   (goal <= 1.5x)\n", secs["c2w-vm", "total"] / q
    if (q > 0 && ("node", "total") in secs)    printf "  node     / qemu     = %5.2fx   (goal <= 1.75x)\n", secs["node", "total"] / q
    if ((nat, "total") in secs && ("wasmedge", "total") in secs)
      printf "  wasmedge speed / %s speed = %4.2fx   (goal >= 0.5x)\n", nat, secs[nat, "total"] / secs["wasmedge", "total"]
    if (("node", "total") in secs && ("chromium", "total") in secs && secs["node", "total"] > 0) {
      printf "  chromium / node     = %5.2fx   (goal <= 1.2x)   per part:", secs["chromium", "total"] / secs["node", "total"]
      for (j = 1; j <= 5; j++)
        if (secs["node", parts[j]] > 0) printf " %s %.2fx", parts[j], secs["chromium", parts[j]] / secs["node", parts[j]]
      printf "\n"
    }
  }' "$results"
