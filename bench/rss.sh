#!/usr/bin/env bash
# Memory of the resident parts of a container host, idle and with one idle container:
#   silod idle RSS; the RSS of the silo-shim holding an idle `sleep` container;
#   when dockerd is installed: dockerd and its containerd idle RSS, and the RSS of the
#   containerd-shim-runc-v2 holding the same idle container.
# Prints a table (VmRSS from /proc, KiB and MiB) and "goal: silo-shim <= 1 MiB: met|not met".
#
#   bench/rss.sh BUILD
#
# Every daemon runs inside one throwaway network namespace made here, with its own data
# root, exec root and socket under a temp dir (dockerd: --bridge=none --iptables=false;
# it starts its own containerd; the image comes from `docker import` of the busybox
# rootfs). Containers run with --network none. All of it is stopped by pid and removed on
# exit, also on failure or Ctrl-C. SETTLE (default 3) is the seconds to let each daemon
# settle before reading its RSS.
# Exit status: 0 when every number was read (goal met or not), 1 on an error.
set -uo pipefail

GOAL_KIB=1024

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
build=${1:-build}
[ -d "$build" ] || { echo "usage: $0 BUILD (no such dir: $build)" >&2; exit 1; }
build=$(cd "$build" && pwd)
rootfs=${SILO_ROOTFS:-$build/rootfs/busybox}
SETTLE=${SETTLE:-3}

bench_preflight "$build/silod" "$rootfs"
[ -x "$build/silo-shim" ] || { echo "error: $build/silo-shim is not built (make build)" >&2; exit 1; }
command -v curl >/dev/null || { echo "error: curl is not installed" >&2; exit 1; }

work=$(mktemp -d /tmp/silo-bench.XXXXXX)
chmod 755 "$work"
ns="silo-bench-$$"
have_docker=0

cleanup() {
  bench_stop_silod "$build" "$work/silo" "$ns"
  [ $have_docker = 1 ] && bench_stop_dockerd "$work/docker"
  ip netns delete "$ns" 2>/dev/null
  bench_umount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rows=()
# row NAME KIB NOTE: one line of the table.
row() { rows+=("$1|$2|$3"); }

bench_netns "$ns" || exit 1

# --- silo ---------------------------------------------------------------------------------
bench_start_silod "$build" "$work/silo" "$ns" || exit 1
sleep "$SETTLE"
silod_kib=$(bench_rss "$SILOD_PID")
row silod "$silod_kib" "idle, no containers (pid $SILOD_PID)"

# silo_api METHOD PATH [JSON]: one request to our silod.
silo_api() {
  curl -sS -m 30 --unix-socket "$SILOD_SOCK" -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "http://d$2"
}
out=$(silo_api POST '/containers/create?name=rss-sleep' \
  '{"Image":"busybox","Cmd":["sleep","100000"],"HostConfig":{"NetworkMode":"none"}}')
id=$(jq -r '.Id // empty' <<<"$out" 2>/dev/null)
[ -n "$id" ] || { echo "error: silod could not create the sleep container: $out" >&2; exit 1; }
out=$(silo_api POST "/containers/$id/start")
[ -z "$out" ] || { echo "error: silod could not start the sleep container: $out" >&2; exit 1; }
sleep "$SETTLE"
pid=$(silo_api GET "/containers/$id/json" | jq -r '.State.Pid // 0')
[ "$pid" -gt 0 ] 2>/dev/null || { echo "error: the sleep container has no pid" >&2; exit 1; }
shim=$(bench_ppid "$pid")
[ "$(cat "/proc/$shim/comm" 2>/dev/null)" = silo-shim ] ||
  { echo "error: the parent of the container's init ($pid) is $(cat "/proc/$shim/comm" 2>/dev/null) ($shim), not silo-shim" >&2; exit 1; }
shim_kib=$(bench_rss "$shim")
row silo-shim "$shim_kib" "holding one idle sleep container (pid $shim)"
row "silod (1 container)" "$(bench_rss "$SILOD_PID")" "after the container started"
bench_stop_silod "$build" "$work/silo" "$ns"

# --- dockerd + containerd -------------------------------------------------------------------
if command -v docker >/dev/null && command -v dockerd >/dev/null; then
  have_docker=1
  bench_start_dockerd "$work/docker" "$ns" "$rootfs" || exit 1
  sleep "$SETTLE"
  ctd=$(bench_containerd_pid)
  row dockerd "$(bench_rss "$DOCKERD_PID")" "idle, no containers (pid $DOCKERD_PID)"
  row containerd "$(bench_rss "$ctd")" "idle, started by dockerd (pid ${ctd:-?})"
  dk() { DOCKER_CONFIG="$work/docker/config" timeout 60 nsenter --net="/run/netns/$ns" docker -H "unix://$DOCKERD_SOCK" "$@"; }
  did=$(dk run -d --network none --name rss-sleep busybox sleep 100000) ||
    { echo "error: docker run of the sleep container failed" >&2; exit 1; }
  sleep "$SETTLE"
  dpid=$(dk inspect -f '{{.State.Pid}}' "$did")
  dshim=$(bench_ppid "$dpid")
  row containerd-shim-runc-v2 "$(bench_rss "$dshim")" "holding one idle sleep container (pid $dshim, $(cat "/proc/$dshim/comm" 2>/dev/null))"
  row "dockerd (1 container)" "$(bench_rss "$DOCKERD_PID")" "after the container started"
  row "containerd (1 container)" "$(bench_rss "$ctd")" "after the container started"
else
  echo "note: docker/dockerd not installed, their rows are skipped"
fi

rc=0
printf '%-26s  %10s  %8s  %s\n' process "RSS KiB" "RSS MiB" note
printf '%-26s  %10s  %8s  %s\n' -------------------------- ---------- -------- ----
for r in "${rows[@]}"; do
  IFS='|' read -r a b c <<<"$r"
  [ -n "$b" ] || { b=n/a; rc=1; }
  printf '%-26s  %10s  %8s  %s\n' "$a" "$b" "$(awk -v k="$b" 'BEGIN { if (k == "n/a") print "n/a"; else printf "%.2f", k / 1024 }')" "$c"
done
if [ -z "$shim_kib" ]; then
  echo "goal: silo-shim <= 1 MiB: n/a (no reading)"
  rc=1
elif [ "$shim_kib" -le "$GOAL_KIB" ]; then
  echo "goal: silo-shim <= 1 MiB: met ($shim_kib KiB)"
else
  echo "goal: silo-shim <= 1 MiB: not met ($shim_kib KiB)"
fi
exit $rc
