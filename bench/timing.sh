# Timing helpers for the bench scripts (sourced, not run).
#   now                  wall clock, seconds with nanoseconds
#   secs A B / ms A B    the time from A to B (two `now`s) in seconds (2 decimals) or whole ms
#   timed UNIT N CMD...  the median of N runs of CMD (its output discarded) in UNIT, secs or
#                        ms; a failing run stops the script, so no figure comes from a failure
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.2f'; }
ms() { echo "($2 - $1) * 1000" | bc -l | xargs printf '%.0f'; }
timed() {
  local unit=$1 n=$2; shift 2
  local ts=() a b
  for _ in $(seq "$n"); do
    a=$(now)
    "$@" >/dev/null 2>&1 </dev/null || { echo "bench: failed: $*" >&2; exit 1; }
    b=$(now)
    ts+=("$("$unit" "$a" "$b")")
  done
  printf '%s\n' "${ts[@]}" | sort -n | sed -n "$(( (n + 1) / 2 ))p"
}
