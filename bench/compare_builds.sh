#!/usr/bin/env bash
# Benchmark: the same fully cached conversion and the same unpack with two or more builds of c2w,
# interleaved in one run, so that a change to the engine is measured against the build before
# it on the same machine at the same moment. The first build is the anchor: every figure is
# also printed as a ratio to it. Prints figures; never passes or fails on time.
#   bench/compare_builds.sh BUILD_DIR... [-- IMAGE...]   (default image: busybox; runs: 7)
#   RUNS=N sets the runs; C2W_ARGS="--build-arg MEMORY=512M" adds flags to every conversion.
# Each build gets its own cache (a copy of the fixtures' cache, warmed by one conversion),
# since cache keys may differ between builds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${C2W_FIXTURES:-$HOME/.cache/c2w-fixtures}
runs=${RUNS:-7}
builds=()
while (($#)) && [[ $1 != -- ]]; do builds+=("$(cd "$1" && pwd)"); shift; done
[[ ${1:-} == -- ]] && shift
images=("${@:-busybox}")
((${#builds[@]})) || { echo "usage: bench/compare_builds.sh BUILD_DIR... [-- IMAGE...]" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=bench/timing.sh
source "$root/bench/timing.sh"

median() { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }

printf '%-8s %-28s %9s %7s  %s\n' image measure median ratio build
for image in "${images[@]}"; do
  layout=$fixtures/$image/layout
  [[ -d $layout ]] || { echo "no fixture $layout (run scripts/test once)"; exit 1; }
  for i in "${!builds[@]}"; do
    cache=$work/cache-$i-$image
    mkdir -p "$cache"; tar -C "$fixtures/c2w-cache" --exclude=./tmp -cf - . | tar -C "$cache" -xf -
    # shellcheck disable=SC2086
    "${builds[$i]}/cmd/c2w" --cache-dir "$cache" --progress=plain ${C2W_ARGS:-} "oci-layout:$layout" \
      "$work/warm.wasm" >"$work/log" 2>&1 || { tail -20 "$work/log"; exit 1; }
  done
  # Interleave the builds run by run, so a slow moment of the machine hits all of them.
  declare -A convert=() unpack=()
  for _ in $(seq "$runs"); do
    for i in "${!builds[@]}"; do
      a=$(now)
      # shellcheck disable=SC2086
      "${builds[$i]}/cmd/c2w" --cache-dir "$work/cache-$i-$image" --progress=plain ${C2W_ARGS:-} \
        "oci-layout:$layout" "$work/out.wasm" >/dev/null 2>&1 || { echo "bench: conversion failed" >&2; exit 1; }
      b=$(now)
      convert[$i]+="$(ms "$a" "$b") "
      a=$(now)
      "${builds[$i]}/bench/unpack_bench" "$layout" latest 1 >/dev/null 2>&1 || { echo "bench: unpack failed" >&2; exit 1; }
      b=$(now)
      unpack[$i]+="$(ms "$a" "$b") "
    done
  done
  for what in convert unpack; do
    declare -n times=$what
    anchor=$(tr ' ' '\n' <<<"${times[0]}" | grep . | median)
    label=$([[ $what == convert ]] && echo "convert, fully cached (ms)" || echo "unpack_bench, 1 run (ms)")
    for i in "${!builds[@]}"; do
      m=$(tr ' ' '\n' <<<"${times[$i]}" | grep . | median)
      printf '%-8s %-28s %9s %6sx  %s\n' "$image" "$label" "$m" "$(ratio "$m" "$anchor")" "${builds[$i]}"
    done
  done
  unset convert unpack
done
