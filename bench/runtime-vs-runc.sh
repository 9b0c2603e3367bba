#!/usr/bin/env bash
# Start-up latency: `silo-runc run` vs `runc run` of /bin/true from the same busybox
# bundle. N runs each (default 30, at least 20), alternating runtimes so drift hits both;
# each run has its own container id and is deleted after. Prints median and p90 in ms
# and the ratio silo/runc against the goal (<= 0.3x).
#
#   bench/runtime-vs-runc.sh BUILD            # N=50 bench/runtime-vs-runc.sh build
#
# Both runtimes run inside one throwaway network namespace made here (entered with
# nsenter --net, which keeps /sys/fs/cgroup visible, unlike `ip netns exec`), each with
# a private --root. The timing loop itself runs inside that namespace and times each
# run with bash's $EPOCHREALTIME (no fork), so the shell overhead is the same for both.
# SILO_RUNTIME overrides the silo-runc path, RUNC the runc path (RUNC= skips runc).
# Exit status: 0 when the runs worked (goal met or not), 1 on an error.
set -uo pipefail

GOAL=0.3

# --- inner mode: the timing loop, run inside the namespace ------------------------------
# inner WORK N RUNTIME...: prints "INDEX MICROSECONDS RC" per run and runtime.
if [ "${1:-}" = --inner ]; then
  trap 'exit 130' INT TERM
  work=$2 n=$3; shift 3
  rts=("$@")
  for ((i = -2; i < n; i++)); do # two warm-up rounds, not reported
    for ((k = 0; k < ${#rts[@]}; k++)); do
      id="bench-$$-$k-$((i + 2))"
      st="$work/state$k"
      t0=${EPOCHREALTIME/./}
      "${rts[$k]}" --root "$st" run --bundle "$work/bundle" "$id" >/dev/null 2>>"$work/err$k"
      rc=$?
      t1=${EPOCHREALTIME/./}
      "${rts[$k]}" --root "$st" delete --force "$id" >/dev/null 2>&1
      ((i >= 0)) && echo "$k $((t1 - t0)) $rc"
    done
  done
  exit 0
fi

# --- outer mode --------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
build=${1:-build}
[ -d "$build" ] || { echo "usage: $0 BUILD (no such dir: $build)" >&2; exit 1; }
build=$(cd "$build" && pwd)
N=${N:-30}
((N >= 20)) || { echo "N must be >= 20 (got $N)" >&2; exit 1; }
silo=${SILO_RUNTIME:-$build/silo-runc}
runc=${RUNC-$(command -v runc || true)}
rootfs=${SILO_ROOTFS:-$build/rootfs/busybox}

bench_preflight "$silo" "$rootfs"

work=$(mktemp -d /tmp/silo-bench.XXXXXX)
ns="silo-bench-$$"
rts=("$silo")
[ -n "$runc" ] && [ -x "$runc" ] && rts+=("$runc")

inner=
cleanup() {
  local k
  # Stop the timing loop first (by its pid; it exits after its current run).
  if [ -n "$inner" ]; then kill -TERM "$inner" 2>/dev/null; wait "$inner" 2>/dev/null; fi
  for ((k = 0; k < ${#rts[@]}; k++)); do bench_delete_all "${rts[$k]}" "$work/state$k" "$ns"; done
  ip netns delete "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_netns "$ns" || exit 1

# One bundle for both: the product's default spec (runc's if silo-runc cannot make one).
mkdir -p "$work/bundle"
gen=$silo
(cd "$work/bundle" && "$silo" spec >/dev/null 2>&1) || { gen=$runc; (cd "$work/bundle" && rm -f config.json && "$runc" spec); } || {
  echo "error: could not make a spec" >&2; exit 1; }
jq --arg r "$rootfs" '.process.terminal=false | .root.path=$r | .root.readonly=true | .process.args=["/bin/true"]' \
  "$work/bundle/config.json" >"$work/c.json" && mv "$work/c.json" "$work/bundle/config.json"
echo "bundle: busybox /bin/true, spec from $gen; N=$N runs each (+2 warm-up), netns $ns"

# Bounded: N runs x runtimes, 10 minutes at most. In the background so that Ctrl-C
# reaches our trap at once (wait is interruptible).
timeout 600 nsenter --net="/run/netns/$ns" bash "$0" --inner "$work" "$N" "${rts[@]}" >"$work/times" &
inner=$!
wait "$inner" || echo "warning: timing loop ended early (timeout 600 s)" >&2
inner=

stats() { bench_stats "$work/times" "$1"; }

read -r s_med s_p90 s_fail s_cnt < <(stats 0)
echo "silo-runc ($silo): $s_cnt runs, $s_fail failed, median $s_med ms, p90 $s_p90 ms"
rc=0
if [ "$s_fail" -gt 0 ]; then
  echo "silo-runc errors (last lines):"; tail -n 5 "$work/err0" | sed 's/^/  /'
  rc=1
fi
if [ ${#rts[@]} -gt 1 ]; then
  read -r r_med r_p90 r_fail r_cnt < <(stats 1)
  echo "runc ($runc): $r_cnt runs, $r_fail failed, median $r_med ms, p90 $r_p90 ms"
  if [ "$r_fail" -gt 0 ]; then echo "runc errors (last lines):"; tail -n 5 "$work/err1" | sed 's/^/  /'; rc=1; fi
  ratio=$(awk -v a="$s_med" -v b="$r_med" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "n/a"; else printf "%.2fx", a / b }')
  echo "silo-runc run /bin/true: median $s_med ms, runc: $r_med ms, ratio $ratio (goal <= ${GOAL}x)"
else
  echo "note: runc not found, its column is skipped"
  echo "silo-runc run /bin/true: median $s_med ms, runc: n/a (not installed), ratio n/a (goal <= ${GOAL}x)"
fi
exit $rc
