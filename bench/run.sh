#!/usr/bin/env bash
# Runs every bench and prints a table: bench, result, goal, verdict.
#
#   bench/run.sh BUILD        # make bench
#
# N (runs per runtime, default 30) goes to runtime-vs-runc.sh, STRESS_N (default 1000)
# to stress-8mib.sh, LATENCY_N (default 20) to run-latency.sh, PULL_N (default 3) to
# pull.sh, NET_N (default 10) and NET_IPERF_N / NET_IPERF_T to network.sh; SILO_RUNTIME /
# RUNC override the runtimes. run-latency.sh, rss.sh, pull.sh and network.sh start their
# own silod (and dockerd, podman, a registry where installed) in a throwaway network
# namespace. Each bench's own output is shown as it runs. Exit status 1 when a bench
# errs or fails (a missed latency, pull or network goal is reported as MISSED but does
# not fail the run).
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d /tmp/silo-benchlogs.XXXXXX)
trap 'rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

rows=()
rc_all=0

# run_bench NAME CMD...: runs it, keeps its output in $logs/NAME and its status.
run_bench() {
  local name=$1; shift
  echo "=== bench: $name"
  "$@" 2>&1 | tee "$logs/$name"
  return "${PIPESTATUS[0]}"
}

# runtime-vs-runc: goal silo/runc median ratio <= 0.3.
run_bench runtime-vs-runc "$here/runtime-vs-runc.sh" "$build"
rc=$?
line=$(grep -E '^silo-runc run /bin/true:' "$logs/runtime-vs-runc" | tail -n 1)
result=$(echo "$line" | sed -E 's/^silo-runc run \/bin\/true: //; s/ \(goal.*//')
ratio=$(echo "$line" | grep -oE 'ratio [0-9.]+x' | grep -oE '[0-9.]+' || true)
if [ $rc -ne 0 ] || [ -z "$line" ]; then
  verdict=ERROR; rc_all=1; [ -n "$result" ] || result=$(tail -n 1 "$logs/runtime-vs-runc")
elif [ -z "$ratio" ]; then
  verdict=n/a
elif awk -v r="$ratio" 'BEGIN { exit !(r <= 0.3) }'; then
  verdict=ok
else
  verdict=MISSED
fi
rows+=("runtime-vs-runc|$result|ratio <= 0.3x|$verdict")

# stress-8mib: goal zero failures.
run_bench stress-8mib "$here/stress-8mib.sh" "$build" "${STRESS_N:-1000}"
rc=$?
result=$(grep -E '^[0-9]+ cycles, [0-9]+ failures' "$logs/stress-8mib" | tail -n 1)
if [ $rc -eq 0 ] && [ -n "$result" ]; then verdict=ok; else verdict=FAIL; rc_all=1; fi
[ -n "$result" ] || result=$(tail -n 1 "$logs/stress-8mib")
rows+=("stress-8mib|$result|0 failures|$verdict")

# run-latency: goal silo run --rm latency <= 0.1x docker's.
N=${LATENCY_N:-20} run_bench run-latency "$here/run-latency.sh" "$build"
rc=$?
result=$(grep -E '^silo run --rm true:' "$logs/run-latency" | tail -n 1 | sed -E 's/^silo run --rm true: //')
goal=$(grep -E '^goal: run latency' "$logs/run-latency" | tail -n 1)
if [ $rc -ne 0 ] || [ -z "$goal" ]; then
  verdict=ERROR; rc_all=1; [ -n "$result" ] || result=$(tail -n 1 "$logs/run-latency")
elif [[ "$goal" == *": met"* ]]; then
  verdict=ok
elif [[ "$goal" == *": n/a"* ]]; then
  verdict=n/a
else
  verdict=MISSED
fi
rows+=("run-latency|$result|<= 0.1x docker|$verdict")

# rss: goal silo-shim RSS <= 1 MiB.
run_bench rss "$here/rss.sh" "$build"
rc=$?
goal=$(grep -E '^goal: silo-shim' "$logs/rss" | tail -n 1)
kib() { awk -v n="$1" '$1 == n { print $2; exit }' "$logs/rss"; }
na() { [ -n "$1" ] && echo "$1" || echo n/a; }
result="silo-shim $(na "$(kib silo-shim)"), silod $(na "$(kib silod)"); containerd-shim $(na "$(kib containerd-shim-runc-v2)"), dockerd $(na "$(kib dockerd)") (KiB)"
if [ $rc -ne 0 ] || [ -z "$goal" ]; then
  verdict=ERROR; rc_all=1; result=$(tail -n 1 "$logs/rss")
elif [[ "$goal" == *": met"* ]]; then
  verdict=ok
else
  verdict=MISSED
fi
rows+=("rss|$result|shim <= 1 MiB|$verdict")

# pull: goal silo pull time < docker's and < skopeo's (each n/a when not installed).
run_bench pull "$here/pull.sh" "$build"
rc=$?
result=$(grep -E '^pull [0-9]+ MiB' "$logs/pull" | tail -n 1 | sed -E 's/^pull ([0-9]+ MiB) [0-9]+ layers:/\1:/; s/ \(goal.*//')
goal=$(grep -E '^goal: pull' "$logs/pull" | tail -n 1)
if [ $rc -eq 0 ] && grep -q '^skipped' "$logs/pull"; then
  verdict=n/a; result=$(grep '^skipped' "$logs/pull" | head -n 1 | sed -E 's/^skipped, because /skipped: /; s/ \(apt-get.*//')
elif [ $rc -ne 0 ] || [ -z "$goal" ]; then
  verdict=ERROR; rc_all=1; [ -n "$result" ] || result=$(tail -n 1 "$logs/pull")
elif [[ "$goal" == *": met"* ]]; then
  verdict=ok
elif [[ "$goal" == *": n/a"* ]]; then
  verdict=n/a
else
  verdict=MISSED
fi
rows+=("pull|$result|< 1x both|$verdict")

# network: goals silo start with a published port (ready) <= 0.1x docker, and silo's
# published-port throughput >= 0.95x the container's own address. One run, two rows.
run_bench network "$here/network.sh" "$build"
rc=$?
# net_row NAME SUMMARY_RE GOAL_RE GOAL_TEXT: a row from network.sh's summary and goal lines.
net_row() {
  local result goal verdict
  result=$(grep -E "$2" "$logs/network" | tail -n 1 | sed -E "s/$2//; s/ \(goal.*//")
  goal=$(grep -E "$3" "$logs/network" | tail -n 1)
  if [ $rc -ne 0 ] || [ -z "$goal" ]; then
    verdict=ERROR; rc_all=1; [ -n "$result" ] || result=$(tail -n 1 "$logs/network")
  elif [[ "$goal" == *": met"* ]]; then
    verdict=ok
  elif [[ "$goal" == *": n/a"* ]]; then
    verdict=n/a
  else
    verdict=MISSED
  fi
  rows+=("$1|$result|$4|$verdict")
}
net_row net-start '^net start ready: ' '^goal: start' '<= 0.1x docker'
net_row net-throughput '^net throughput: ' '^goal: published/direct' '>=0.95x direct'

echo
printf '%-16s  %-72s  %-14s  %s\n' bench result goal verdict
printf '%-16s  %-72s  %-14s  %s\n' ---------------- "$(printf '%.0s-' {1..72})" -------------- -------
for r in "${rows[@]}"; do
  IFS='|' read -r a b c d <<<"$r"
  printf '%-16s  %-72s  %-14s  %s\n' "$a" "$b" "$c" "$d"
done
exit $rc_all
