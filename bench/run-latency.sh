#!/usr/bin/env bash
# Container run latency through the whole stack: the wall time of
#   silo   run --rm --network none busybox true     (against a silod started here)
#   docker run --rm --network none busybox true     (against a dockerd started here)
#   podman run --rm --network none busybox true     (podman with a store of its own)
# N runs each (default 20, at least 20) after 2 warm-up runs, alternating tools so drift
# hits all; prints each median and p90 in ms, the ratios silo/docker and silo/podman and
# the goal line "goal: run latency <= 0.1x docker: met|not met". docker and podman are
# skipped (n/a) when not installed.
#
#   bench/run-latency.sh BUILD            # N=30 bench/run-latency.sh build
#
# Everything runs inside one throwaway network namespace made here (nsenter --net, so
# cgroups stay visible); each daemon has its own data root, exec root and socket under a
# temp dir; dockerd runs with --bridge=none --iptables=false and gets the image by
# `docker import` of the busybox rootfs, podman by `podman import`. All of it is stopped
# by pid and removed on exit, also on failure or Ctrl-C.
# Exit status: 0 when the runs worked (goal met or not), 1 on an error.
set -uo pipefail

GOAL=0.1

# --- inner mode: the timing loop, run inside the namespace ------------------------------
# --inner CMDFILE N: CMDFILE has one command line per tool; prints "K MICROSECONDS RC".
if [ "${1:-}" = --inner ]; then
  trap 'exit 130' INT TERM
  mapfile -t cmds <"$2"
  n=$3
  for ((i = -2; i < n; i++)); do # two warm-up rounds, not reported
    for ((k = 0; k < ${#cmds[@]}; k++)); do
      t0=${EPOCHREALTIME/./}
      eval "${cmds[$k]}" >/dev/null 2>>"$2.err$k"
      rc=$?
      t1=${EPOCHREALTIME/./}
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
N=${N:-20}
((N >= 20)) || { echo "N must be >= 20 (got $N)" >&2; exit 1; }
rootfs=${SILO_ROOTFS:-$build/rootfs/busybox}
silo_cli=${SILO_CLI:-$build/silo}

bench_preflight "$build/silod" "$rootfs"
[ -x "$silo_cli" ] || { echo "error: $silo_cli is not built (make build)" >&2; exit 1; }
[ -x "$build/silo-shim" ] || { echo "error: $build/silo-shim is not built (make build)" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: curl is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/silo-bench.XXXXXX)
chmod 755 "$work"
ns="silo-bench-$$"
have_docker=0 have_podman=0
inner=

cleanup() {
  if [ -n "$inner" ]; then kill -TERM "$inner" 2>/dev/null; wait "$inner" 2>/dev/null; fi
  bench_stop_silod "$build" "$work/silo" "$ns"
  [ $have_docker = 1 ] && bench_stop_dockerd "$work/docker"
  [ $have_podman = 1 ] && bench_podman_cleanup "$work/podman" "$ns"
  ip netns delete "$ns" 2>/dev/null
  bench_umount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_netns "$ns" || exit 1
names=(silo)
bench_start_silod "$build" "$work/silo" "$ns" || exit 1
printf '%q -H %q run --rm --network none busybox true\n' "$silo_cli" "unix://$SILOD_SOCK" >"$work/cmds"

if command -v docker >/dev/null && command -v dockerd >/dev/null; then
  have_docker=1
  bench_start_dockerd "$work/docker" "$ns" "$rootfs" || exit 1
  printf 'DOCKER_CONFIG=%q docker -H %q run --rm --network none busybox true\n' \
    "$work/docker/config" "unix://$DOCKERD_SOCK" >>"$work/cmds"
  names+=(docker)
else
  echo "note: docker/dockerd not installed, the docker column is skipped"
fi

if command -v podman >/dev/null; then
  have_podman=1
  bench_podman "$work/podman"
  if tar -C "$rootfs" -c . | timeout 120 nsenter --net="/run/netns/$ns" "${PODMAN[@]}" import - busybox >"$work/podman-import.log" 2>&1; then
    printf '%q ' "${PODMAN[@]}" run --rm --network none "${PODMAN_RUN[@]}" busybox true >>"$work/cmds"
    echo >>"$work/cmds"
    names+=(podman)
  else
    echo "error: podman import of $rootfs failed:" >&2
    tail -n 5 "$work/podman-import.log" >&2
    exit 1
  fi
else
  echo "note: podman not installed, the podman column is skipped"
fi

echo "run --rm --network none busybox true: ${names[*]}; N=$N runs each (+2 warm-up), netns $ns"
# Bounded: 10 minutes at most. In the background so that Ctrl-C reaches our trap at once.
timeout 600 nsenter --net="/run/netns/$ns" bash "$0" --inner "$work/cmds" "$N" >"$work/times" &
inner=$!
wait "$inner" || echo "warning: timing loop ended early (timeout 600 s)" >&2
inner=

stats() { bench_stats "$work/times" "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "n/a"; else printf "%.3fx", a / b }'; }

rc=0
declare -A med
for ((k = 0; k < ${#names[@]}; k++)); do
  read -r m p f c < <(stats $k)
  med[${names[$k]}]=$m
  echo "${names[$k]} run --rm: $c runs, $f failed, median $m ms, p90 $p ms"
  if [ "$f" -gt 0 ]; then
    echo "${names[$k]} errors (last lines):"
    tail -n 5 "$work/cmds.err$k" | sed 's/^/  /'
    rc=1
  fi
done
r_docker=$(ratio "${med[silo]}" "${med[docker]:-nan}")
r_podman=$(ratio "${med[silo]}" "${med[podman]:-nan}")
echo "ratio silo/docker: $r_docker"
echo "ratio silo/podman: $r_podman"
if [ "$r_docker" = n/a ]; then
  verdict="n/a (no docker median)"
elif awk -v r="${r_docker%x}" -v g="$GOAL" 'BEGIN { exit !(r <= g) }'; then
  verdict="met ($r_docker)"
else
  verdict="not met ($r_docker)"
fi
echo "silo run --rm true: median ${med[silo]} ms, docker: ${med[docker]:-n/a} ms, podman: ${med[podman]:-n/a} ms"
echo "goal: run latency <= ${GOAL}x docker: $verdict"
exit $rc
