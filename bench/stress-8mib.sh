#!/usr/bin/env bash
# Reliability at a tight memory limit: N (default 1000) create/start/kill/delete cycles
# of a container limited to 8 MiB (no swap), counting the cycles where any step failed.
# Prints "N cycles, F failures, X s"; exit 1 if F > 0.
#
#   bench/stress-8mib.sh BUILD [N]          # SILO_RUNTIME=/usr/sbin/runc to check runc
#
# Runs in a throwaway network namespace (nsenter --net keeps /sys/fs/cgroup visible) with
# a private --root; everything is removed on exit, Ctrl-C included. Bounded: each step
# has a timeout, the whole loop STRESS_MAX_S seconds (default 1200); cycles not run by
# then count as failures.
set -uo pipefail

MIB8=8388608

# --- inner mode: the loop, run inside the namespace -------------------------------------
if [ "${1:-}" = --inner ]; then
  trap 'exit 130' INT TERM
  rt=$2 work=$3 n=$4 max_s=$5
  st="$work/state" b="$work/bundle" log="$work/failures.log" cyc="$work/cycle.log"
  fails=0 start=$SECONDS
  r() { echo "\$ ${rt##*/} $*" >>"$cyc"; timeout 20 "$rt" --root "$st" "$@" 2>>"$cyc"; }
  wait_stopped() {
    local j s
    for ((j = 0; j < 500; j++)); do # 10 s
      s=$("$rt" --root "$st" state "$1" 2>/dev/null | jq -r .status)
      [ "$s" = stopped ] && return 0
      sleep 0.02
    done
    echo "$1: not stopped after 10 s (status $s)" >>"$cyc"
    return 1
  }
  for ((i = 1; i <= n; i++)); do
    if ((SECONDS - start >= max_s)); then
      echo "stopped after ${max_s} s at cycle $i; $((n - i + 1)) cycles not run count as failures" >&2
      fails=$((fails + n - i + 1))
      break
    fi
    id="stress-$$-$i" ok=1
    : >"$cyc"
    r create --bundle "$b" "$id" >/dev/null || ok=0
    ((ok)) && { r start "$id" >/dev/null || ok=0; }
    ((ok)) && { r kill "$id" KILL >/dev/null || ok=0; }
    ((ok)) && { wait_stopped "$id" || ok=0; }
    ((ok)) && { r delete "$id" >/dev/null || ok=0; }
    if ((!ok)); then
      fails=$((fails + 1))
      { echo "--- cycle $i ($id) failed:"; cat "$cyc"; } >>"$log"
      echo "cycle $i: failed: $(tail -n 1 "$cyc")" >&2
      timeout 20 "$rt" --root "$st" delete --force "$id" >/dev/null 2>&1
    fi
    ((i % 100 == 0)) && echo "  $i cycles, $fails failures, $((SECONDS - start)) s" >&2
  done
  echo "$fails" >"$work/result"
  exit 0
fi

# --- outer mode --------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
build=${1:-build}
[ -d "$build" ] || { echo "usage: $0 BUILD [N] (no such dir: $build)" >&2; exit 1; }
build=$(cd "$build" && pwd)
N=${2:-1000}
rt=${SILO_RUNTIME:-$build/silo-runc}
rootfs=${SILO_ROOTFS:-$build/rootfs/busybox}
max_s=${STRESS_MAX_S:-1200}

bench_preflight "$rt" "$rootfs"

work=$(mktemp -d /tmp/silo-stress.XXXXXX)
ns="silo-stress-$$"
inner=
cleanup() {
  # Stop the loop first (by its pid; it exits after its current step, <= 20 s).
  if [ -n "$inner" ]; then kill -TERM "$inner" 2>/dev/null; wait "$inner" 2>/dev/null; fi
  bench_delete_all "$rt" "$work/state" "$ns"
  ip netns delete "$ns" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_netns "$ns" || exit 1
mkdir -p "$work/bundle" "$work/state"
(cd "$work/bundle" && "$rt" spec >/dev/null 2>&1) || (cd "$work/bundle" && rm -f config.json && runc spec) || {
  echo "error: could not make a spec" >&2; exit 1; }
jq --arg r "$rootfs" --argjson m "$MIB8" \
  '.process.terminal=false | .root.path=$r | .root.readonly=true | .process.args=["sleep","60"]
   | .linux.resources.memory={"limit":$m,"swap":$m}' \
  "$work/bundle/config.json" >"$work/c.json" && mv "$work/c.json" "$work/bundle/config.json"

echo "stress: $rt, $N cycles create/start/kill/delete at 8 MiB (at most ${max_s} s)"
t0=$SECONDS
# In the background so that Ctrl-C reaches our trap at once (wait is interruptible).
nsenter --net="/run/netns/$ns" bash "$0" --inner "$rt" "$work" "$N" "$max_s" &
inner=$!
wait "$inner"
inner=
F=$(cat "$work/result" 2>/dev/null)
[[ "$F" =~ ^[0-9]+$ ]] || { echo "error: the stress loop did not finish" >&2; F=$N; }
X=$((SECONDS - t0))
if [ "$F" -gt 0 ]; then
  echo "failures (last 30 log lines):"
  tail -n 30 "$work/failures.log" 2>/dev/null | sed 's/^/  /'
fi
echo "$N cycles, $F failures, $X s"
[ "$F" -eq 0 ]
