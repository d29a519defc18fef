#!/usr/bin/env bash
# Benchmark: cold fetch + unpack of the debian fixture from a loopback docker-registry with
# c2w, against `skopeo copy` + `tar -x` of the same layers in the same run (the baseline), and
# a fully cached rerun. Prints figures; it does not pass or fail on time.
#   bench/fetch_unpack.sh [BUILD_DIR]   (fixtures from scripts/test, in $C2W_FIXTURES)
set -euo pipefail
build=${1:-build}
c2w=$(cd "$build" && pwd)/cmd/c2w
fixtures=${C2W_FIXTURES:-$HOME/.cache/c2w-fixtures}
layout=$fixtures/debian/layout
work=$(mktemp -d)
trap 'kill $reg_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/storage}}
http: {addr: 127.0.0.1:$port}
YML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$layout:latest" "docker://127.0.0.1:$port/debian:latest"
ref=127.0.0.1:$port/debian:latest

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }

# Baseline: skopeo pulls the image into a layout dir, tar extracts every layer in order.
sync; t0=$(now)
skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$ref" "oci:$work/pulled:latest"
mkdir "$work/tar-root"
manifest=$(jq -r '.manifests[0].digest' "$work/pulled/index.json" | cut -d: -f2)
for layer in $(jq -r '.layers[].digest' "$work/pulled/blobs/sha256/$manifest" | cut -d: -f2); do
  tar -xf "$work/pulled/blobs/sha256/$layer" -C "$work/tar-root" --numeric-owner 2>/dev/null || true
done
t1=$(now)
base=$(secs "$t0" "$t1")

# c2w cold: empty cache, fetch + unpack + export.
t0=$(now)
"$c2w" --cache-dir "$work/cache" --progress=plain --insecure-registry "127.0.0.1:$port" \
  --target image --output "type=local,dest=$work/c2w-out" "$ref" >"$work/cold.log" 2>&1
t1=$(now)
cold=$(secs "$t0" "$t1")
# c2w fully cached: same command, new export dir.
t0=$(now)
"$c2w" --cache-dir "$work/cache" --progress=plain --insecure-registry "127.0.0.1:$port" \
  --target image --output "type=local,dest=$work/c2w-out2" "$ref" >"$work/warm.log" 2>&1
t1=$(now)
warm=$(secs "$t0" "$t1")
# The cached solve without the export (what a build that only needs the tree as an input pays).
t0=$(now)
"$c2w" --cache-dir "$work/cache" --progress=plain --insecure-registry "127.0.0.1:$port" \
  --target image --output "type=local,dest=$work/c2w-out3" "$ref" >/dev/null 2>&1
t1=$(now)

bytes=$(jq '[.layers[].size] | add' "$work/pulled/blobs/sha256/$manifest")
unpacked=$(du -sb "$work/tar-root" | cut -f1)
echo "image: debian fixture, $((bytes / 1000000)) MB compressed, $((unpacked / 1000000)) MB unpacked, 3 layers"
echo "baseline skopeo copy + tar -x : ${base} s"
echo "c2w cold fetch+unpack+export  : ${cold} s  ($(echo "$cold / $base" | bc -l | xargs printf '%.2f')x baseline, goal <= 1.2x)"
echo "c2w fully cached rerun        : ${warm} s  (goal <= 1 s; includes exporting $((unpacked / 1000000)) MB)"
echo "c2w unpack throughput         : $(echo "$unpacked / 1000000 / $cold" | bc -l | xargs printf '%.0f') MB/s unpacked per cold second"
