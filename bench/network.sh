#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup and the per-tool functions are called indirectly
# The host network service (issue #5): a container on a nat network with one published
# port, through the whole stack.
#
# 1. Start: the wall time of
#      silo   run -d -p HP:80 --network nat busybox httpd -f -p 80   (a silod started here)
#      docker run -d -p HP:80 --network nat busybox httpd -f -p 80   (a dockerd started here)
#      podman run -d -p HP:80 --network nat busybox httpd -f -p 80   (podman, store of its own)
#    two numbers per run: "returned", command start to the command's return (what
#    run-latency.sh measures), and "ready", command start to the first HTTP status line
#    from the container's httpd through the published port on 127.0.0.1 (polled every
#    ~5 ms, so it is up to ~7 ms late). NET_N runs each (default 10) after one warm-up
#    round, alternating tools, the container removed (untimed) before each run; medians,
#    p90s, the ratios silo/docker and silo/podman, and
#      goal: start (ready) <= 0.1x docker: met|not met|n/a
# 2. TCP throughput: iperf3 -s runs inside a container of each tool on its nat network,
#    published as HP:5201 (the host's iperf3 and the libraries it links are copied to a
#    dir bind-mounted read-only at /iperf and run through their own loader, so the busybox
#    rootfs needs nothing). iperf3 -c in the test host, one TCP stream for NET_IPERF_T
#    seconds (default 3), to (a) the published port on 127.0.0.1, (b) the published port
#    on the test host's address (192.0.2.1 on a veth link), (c) the container's own IP,
#    port 5201; NET_IPERF_N rounds (default 3), alternating; median Gbit/s of each, the
#    ratios published/direct and silo-published/docker-published, and
#      goal: published/direct >= 0.95: met|not met|n/a      (silo; the lower of (a), (b))
#    podman is not part of this half.
# docker and podman are n/a when not installed. The closing lines (bench/run.sh reads them):
#   net start ready: silo 50.7 ms, docker 965.4 ms (0.053x), podman 536.1 ms (0.095x) (goal <= 0.1x docker)
#   net throughput: silo published 11.71 Gbit/s = 0.912x direct, 1.545x docker published (goal >= 0.95x direct)
# where "silo published" is the lower of (a) and (b), and so is docker's.
#
#   bench/network.sh BUILD                 # NET_N=20 NET_IPERF_T=5 bench/network.sh build
#
# Everything runs inside one throwaway network namespace made here: lo, a veth pair with
# both ends inside and 192.0.2.1/32 on one (TEST-NET-1; no route leaves the namespace),
# and the bridges the three tools make; nsenter --net, so cgroups stay visible. Each
# daemon has its own data root, exec root and socket under a temp dir. dockerd runs as
# bench/lib.sh starts it (--bridge=none --iptables=false), so its nat network is `docker
# network create --subnet 10.213.1.0/24 nat` and its published ports are served by
# docker-proxy, the userland proxy (which real dockerd also uses for 127.0.0.1); podman's
# is `podman network create --subnet 10.213.2.0/24 --disable-dns nat` (netavark, rules in
# our namespace only; podman runs in a mount namespace of ours whose /run/netns is under
# the temp dir, so the container network namespaces it names there are never the
# host's); silo's is its built-in nat network. Host ports: NET_PORT (default
# 18080) and up. All of it is stopped by pid and removed on exit, also on failure or
# Ctrl-C.
# Exit status: 0 when the runs worked (goals met or not), 1 on an error — among them
# "silo cannot publish yet" while the nat network's published ports are not there; the
# docker and podman numbers are still measured and printed then.
set -uo pipefail

GOAL_START=0.1
GOAL_TPUT=0.95
HOST_ADDR=192.0.2.1

# http_ok PORT: true when 127.0.0.1:PORT answers a GET with an HTTP status line. A proxy
# that accepts and then finds no server behind it closes the connection: not ready.
http_ok() {
  local line=
  # 2>/dev/null first: redirections apply left to right, and a refused connect is normal.
  { printf 'GET / HTTP/1.0\r\n\r\n' >&3 && IFS= read -r -t 2 line <&3; } 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1"
  [[ $line == HTTP/* ]]
}

# wait_http PORT SECONDS: polls http_ok every ~5 ms; fails on timeout.
wait_http() {
  local end=$((${EPOCHREALTIME/./} + $2 * 1000000))
  until http_ok "$1"; do
    ((${EPOCHREALTIME/./} < end)) || return 1
    sleep 0.005
  done
}

# --- inner mode: the start timing loop, run inside the namespace --------------------------
# --inner DIR N WAIT: DIR/start.run, start.rm, start.port have one line per tool (the run
# command, the remove command, the host port). Appends "K MICROSECONDS RC" lines to
# DIR/times.run (until the command returned) and DIR/times.ready (until the port answered).
if [ "${1:-}" = --inner ]; then
  trap 'exit 130' INT TERM
  d=$2 n=$3 wait_s=$4
  mapfile -t runs <"$d/start.run"
  mapfile -t rms <"$d/start.rm"
  mapfile -t ports <"$d/start.port"
  for ((i = -1; i < n; i++)); do # one warm-up round, not reported
    for ((k = 0; k < ${#runs[@]}; k++)); do
      eval "${rms[$k]}" >/dev/null 2>&1
      t0=${EPOCHREALTIME/./}
      eval "${runs[$k]}" >/dev/null 2>>"$d/start.err$k"
      rc=$?
      t1=${EPOCHREALTIME/./}
      ready_rc=$rc
      if [ $rc = 0 ] && ! wait_http "${ports[$k]}" "$wait_s"; then
        echo "run $i: 127.0.0.1:${ports[$k]} gave no HTTP answer within $wait_s s" >>"$d/start.err$k"
        ready_rc=1
      fi
      t2=${EPOCHREALTIME/./}
      if ((i >= 0)); then
        echo "$k $((t1 - t0)) $rc" >>"$d/times.run"
        echo "$k $((t2 - t0)) $ready_rc" >>"$d/times.ready"
      fi
    done
  done
  for ((k = 0; k < ${#rms[@]}; k++)); do eval "${rms[$k]}" >/dev/null 2>&1; done
  exit 0
fi

# --- outer mode ------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
build=${1:-build}
[ -d "$build" ] || { echo "usage: $0 BUILD (no such dir: $build)" >&2; exit 1; }
build=$(cd "$build" && pwd)
N=${NET_N:-10}
IPERF_T=${NET_IPERF_T:-3}
IPERF_N=${NET_IPERF_N:-3}
PORT=${NET_PORT:-18080}
WAIT_S=10 # how long a started container's port may take to answer
rootfs=${SILO_ROOTFS:-$build/rootfs/busybox}
silo_cli=${SILO_CLI:-$build/silo}
((N >= 1 && IPERF_T >= 1 && IPERF_N >= 1)) || { echo "NET_N, NET_IPERF_T, NET_IPERF_N must be >= 1" >&2; exit 1; }
((PORT >= 1024 && PORT <= 65000)) || { echo "NET_PORT must be in 1024..65000 (got $PORT)" >&2; exit 1; }

bench_preflight "$build/silod" "$rootfs"
[ -x "$silo_cli" ] || { echo "error: $silo_cli is not built (make build)" >&2; exit 1; }
[ -x "$build/silo-shim" ] || { echo "error: $build/silo-shim is not built (make build)" >&2; exit 1; }
for t in curl iperf3 ldd; do command -v $t >/dev/null || { echo "error: $t is not installed (make deps)" >&2; exit 1; }; done

work=$(mktemp -d /tmp/silo-bench-net.XXXXXX)
chmod 755 "$work"
ns="silo-bench-net-$$"
have_docker=0 have_podman=0
inner='' client_pid=''

cleanup() {
  if [ -n "$inner" ]; then kill -TERM "$inner" 2>/dev/null; wait "$inner" 2>/dev/null; fi
  if [ -n "$client_pid" ]; then kill -TERM "$client_pid" 2>/dev/null; wait "$client_pid" 2>/dev/null; fi
  bench_stop_silod "$build" "$work/silo" "$ns"
  [ "$have_docker" = 1 ] && bench_stop_dockerd "$work/docker"
  [ "$have_podman" = 1 ] && bench_podman_cleanup "$work/podman" "$ns"
  ip netns delete "$ns" 2>/dev/null
  bench_umount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
# cli TOOL ARGS...: TOOL's CLI against the daemon started here (podman inside the namespace:
# it sets up the container's network itself).
cli() {
  case $1 in
    silo) shift && "$silo_cli" -H "unix://$SILOD_SOCK" "$@" ;;
    docker) shift && DOCKER_CONFIG="$work/docker/config" docker -H "unix://$DOCKERD_SOCK" "$@" ;;
    podman) shift && in_ns "${PODMAN[@]}" "$@" ;;
  esac
}
# run_flags TOOL: the flags every `run` of TOOL gets (podman: our cgroup parent, rlimits).
run_flags() { [ "$1" != podman ] || printf '%s\n' "${PODMAN_RUN[@]}"; }
# container_ip TOOL NAME: the container's address on its network ("" when none).
container_ip() { cli "$1" inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$2" 2>/dev/null; }
# rm_cmd TOOL NAME: the command line that force-removes NAME, for the timing loop.
rm_cmd() {
  case $1 in
    silo) printf '%q ' "$silo_cli" -H "unix://$SILOD_SOCK" rm -f "$2" ;;
    docker) printf 'DOCKER_CONFIG=%q docker -H %q rm -f %q' "$work/docker/config" "unix://$DOCKERD_SOCK" "$2" ;;
    podman) printf '%q ' "${PODMAN[@]}" rm -f -t 0 "$2" ;;
  esac
}
# podman_mntns DIR: a mount namespace for podman, kept at DIR/mntns, in which /run/netns is
# DIR/netns. podman makes each container's network namespace a file in /run/netns; one that
# a podman killed mid-run (Ctrl-C) leaves behind then goes away with this mount namespace
# instead of staying in the host's /run/netns. A namespace file may only be kept on a
# private mount, hence DIR bound onto itself, private.
podman_mntns() {
  local d=$1
  mkdir -p "$d/netns" && : >"$d/mntns" || return 1
  mount --bind "$d" "$d" && mount --make-private "$d" || return 1
  unshare --mount="$d/mntns" --propagation private mount --bind "$d/netns" /run/netns
}
# run_cmd TOOL NAME HOSTPORT: the timed `run -d` command line.
run_cmd() {
  local flags
  mapfile -t flags < <(run_flags "$1")
  case $1 in
    silo) printf '%q ' "$silo_cli" -H "unix://$SILOD_SOCK" ;;
    docker) printf 'DOCKER_CONFIG=%q docker -H %q ' "$work/docker/config" "unix://$DOCKERD_SOCK" ;;
    podman) printf '%q ' "${PODMAN[@]}" ;;
  esac
  printf '%q ' run -d --name "$2" -p "$3:80" --network nat "${flags[@]}" busybox httpd -f -p 80
}

# --- the namespace and the daemons --------------------------------------------------------
bench_netns "$ns" || exit 1
# The test host's own address, on a veth pair whose both ends stay in the namespace (as
# eth0 would hold it; the dummy driver is not in every kernel).
if ! { ip -n "$ns" link add nbench0 type veth peer name nbench1 &&
  ip -n "$ns" addr add "$HOST_ADDR/32" dev nbench0 &&
  ip -n "$ns" link set nbench1 up && ip -n "$ns" link set nbench0 up; }; then
  echo "error: could not add the veth pair with $HOST_ADDR in $ns" >&2
  exit 1
fi

tools=(silo)
bench_start_silod "$build" "$work/silo" "$ns" || exit 1

if command -v docker >/dev/null && command -v dockerd >/dev/null; then
  have_docker=1
  bench_start_dockerd "$work/docker" "$ns" "$rootfs" || exit 1
  cli docker network create --subnet 10.213.1.0/24 nat >"$work/docker-net.log" 2>&1 || {
    echo "error: docker network create nat failed:" >&2; tail -n 5 "$work/docker-net.log" >&2; exit 1
  }
  tools+=(docker)
else
  echo "note: docker/dockerd not installed, the docker column is skipped"
fi

if command -v podman >/dev/null; then
  have_podman=1
  bench_podman "$work/podman"
  podman_mntns "$work/podman" || { echo "error: could not make podman's mount namespace under $work/podman" >&2; exit 1; }
  PODMAN=(nsenter --mount="$work/podman/mntns" "${PODMAN[@]}")
  if ! tar -C "$rootfs" -c . | timeout 120 nsenter --net="/run/netns/$ns" "${PODMAN[@]}" import - busybox >"$work/podman-import.log" 2>&1; then
    echo "error: podman import of $rootfs failed:" >&2; tail -n 5 "$work/podman-import.log" >&2; exit 1
  fi
  cli podman network create --subnet 10.213.2.0/24 --disable-dns nat >"$work/podman-net.log" 2>&1 || {
    echo "error: podman network create nat failed:" >&2; tail -n 5 "$work/podman-net.log" >&2; exit 1
  }
  tools+=(podman)
else
  echo "note: podman not installed, the podman column is skipped"
fi

# --- can silo publish? ----------------------------------------------------------------------
# One container as the timing loop runs it: it must start, have an address on nat and
# answer through 127.0.0.1:HP. Until then the silo half is an error, with the reason.
silo_ok=1 silo_why=''
probe_port=$((PORT + 9))
if ! cli silo run -d --name bench-net-probe -p "$probe_port:80" --network nat busybox httpd -f -p 80 >"$work/probe.log" 2>&1; then
  silo_why="'silo run -d -p $probe_port:80 --network nat busybox httpd' failed: $(tail -n 1 "$work/probe.log")"
elif ! in_ns bash -c "$(declare -f http_ok wait_http); wait_http $probe_port $WAIT_S"; then
  ip=$(container_ip silo bench-net-probe)
  silo_why="the container runs (address on nat: ${ip:-none}) but 127.0.0.1:$probe_port gave no HTTP answer within $WAIT_S s"
fi
cli silo rm -f bench-net-probe >/dev/null 2>&1
if [ -n "$silo_why" ]; then
  silo_ok=0
  echo "error: silo cannot publish yet: $silo_why" >&2
  tools=("${tools[@]:1}")
fi

# --- 1. start ---------------------------------------------------------------------------------
: >"$work/start.run" && : >"$work/start.rm" && : >"$work/start.port"
: >"$work/times.run" && : >"$work/times.ready"
for ((k = 0; k < ${#tools[@]}; k++)); do
  t=${tools[$k]}
  run_cmd "$t" "bench-net-start-$t" $((PORT + k)) >>"$work/start.run" && echo >>"$work/start.run"
  rm_cmd "$t" "bench-net-start-$t" >>"$work/start.rm" && echo >>"$work/start.rm"
  echo $((PORT + k)) >>"$work/start.port"
done
echo "start: run -d -p HP:80 --network nat busybox httpd -f -p 80: ${tools[*]}; N=$N runs each (+1 warm-up), netns $ns"
rc=0
[ $silo_ok = 1 ] || rc=1
if [ ${#tools[@]} -gt 0 ]; then
  # Bounded: 10 minutes at most. In the background so that Ctrl-C reaches our trap at once.
  timeout 600 nsenter --net="/run/netns/$ns" bash "$0" --inner "$work" "$N" "$WAIT_S" &
  inner=$!
  wait "$inner" || echo "warning: start timing loop ended early (timeout 600 s)" >&2
  inner=
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "nan" || b == "nan" || b == 0) print "n/a"; else printf "%.3fx", a / b }'; }
declare -A ready=()
for ((k = 0; k < ${#tools[@]}; k++)); do
  t=${tools[$k]}
  read -r m p f c < <(bench_stats "$work/times.run" $k)
  read -r rm_ rp rf _ < <(bench_stats "$work/times.ready" $k)
  ready[$t]=$rm_
  echo "$t start: $c runs, $rf failed; returned: median $m ms, p90 $p ms; ready: median $rm_ ms, p90 $rp ms"
  if [ "$f" -gt 0 ] || [ "$rf" -gt 0 ]; then
    echo "$t errors (last lines):"
    tail -n 5 "$work/start.err$k" | sed 's/^/  /'
    rc=1
  fi
done
r_docker=$(ratio "${ready[silo]:-}" "${ready[docker]:-}")
r_podman=$(ratio "${ready[silo]:-}" "${ready[podman]:-}")
echo "ratio silo/docker (ready): $r_docker"
echo "ratio silo/podman (ready): $r_podman"

# --- 2. throughput ------------------------------------------------------------------------
# The host's iperf3 with the libraries it links and its loader, for the bind mount.
mkdir -p "$work/iperf"
cp /usr/bin/iperf3 "$work/iperf/iperf3" || exit 1
ldd /usr/bin/iperf3 | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | while read -r lib; do
  cp -L "$lib" "$work/iperf/" || exit 1
done || exit 1
loader=$(ldd /usr/bin/iperf3 | awk '$1 ~ /^\// { print $1; exit }')
if [ -z "$loader" ] || ! cp -L "$loader" "$work/iperf/ld.so"; then
  echo "error: no loader for iperf3 in ldd's output" >&2
  exit 1
fi
chmod -R a+rX "$work/iperf"

ttools=()
for t in "${tools[@]}"; do [ "$t" = podman ] || ttools+=("$t"); done
declare -A cip=() hport=()
# iperf_server TOOL: starts TOOL's iperf3 server container; sets cip[TOOL], hport[TOOL];
# waits for the server on the container's address.
iperf_server() {
  local t=$1 flags
  hport[$t]=$((PORT + 10 + ${#hport[@]}))
  mapfile -t flags < <(run_flags "$t")
  cli "$t" run -d --name "bench-net-iperf-$t" -p "${hport[$t]}:5201" --network nat "${flags[@]}" \
    -v "$work/iperf:/iperf:ro" busybox /iperf/ld.so --library-path /iperf /iperf/iperf3 -s -p 5201 \
    >"$work/iperf-$t.log" 2>&1 || { echo "error: $t: the iperf3 server container did not start: $(tail -n 1 "$work/iperf-$t.log")" >&2; return 1; }
  cip[$t]=$(container_ip "$t" "bench-net-iperf-$t")
  [ -n "${cip[$t]}" ] || { echo "error: $t: the iperf3 container has no address on nat" >&2; return 1; }
  bench_wait $((WAIT_S * 10)) in_ns bash -c "exec 3<>/dev/tcp/${cip[$t]}/5201" || {
    echo "error: $t: iperf3 -s does not listen on ${cip[$t]}:5201; its log:" >&2
    cli "$t" logs "bench-net-iperf-$t" 2>&1 | tail -n 5 >&2
    return 1
  }
}
# iperf_client ADDR PORT SECONDS OUT: one iperf3 -c run in the namespace, JSON to OUT; prints
# the received rate in kbit/s. In the background, so that Ctrl-C reaches our trap at once.
iperf_client() {
  timeout $(($3 + 30)) nsenter --net="/run/netns/$ns" iperf3 -c "$1" -p "$2" -t "$3" -J >"$4" 2>&1 &
  client_pid=$!
  wait "$client_pid"
  local prc=$?
  client_pid=
  [ $prc = 0 ] || return 1
  jq -er '.end.sum_received.bits_per_second / 1000 | floor' "$4" 2>/dev/null
}

: >"$work/tput"
if [ ${#ttools[@]} -gt 0 ]; then
  for t in "${ttools[@]}"; do iperf_server "$t" || exit 1; done
  declare -A path_addr=() path_port=()
  paths=()
  for t in "${ttools[@]}"; do
    paths+=("$t-lo" "$t-addr" "$t-direct")
    path_addr[$t-lo]=127.0.0.1 path_port[$t-lo]=${hport[$t]}
    path_addr[$t-addr]=$HOST_ADDR path_port[$t-addr]=${hport[$t]}
    path_addr[$t-direct]=${cip[$t]} path_port[$t-direct]=5201
  done
  echo "throughput: iperf3 -c, 1 TCP stream, -t $IPERF_T: ${ttools[*]}; $IPERF_N rounds (+1 s warm-up per path)"
  for p in "${paths[@]}"; do # warm-up, and the check that each path carries traffic
    if ! iperf_client "${path_addr[$p]}" "${path_port[$p]}" 1 "$work/iperf-warm-$p.json" >/dev/null; then
      echo "error: $p: iperf3 -c ${path_addr[$p]} -p ${path_port[$p]} failed: $(jq -r '.error // empty' "$work/iperf-warm-$p.json" 2>/dev/null || tail -n 1 "$work/iperf-warm-$p.json")" >&2
      exit 1
    fi
  done
  for ((i = 0; i < IPERF_N; i++)); do
    for p in "${paths[@]}"; do
      if kbit=$(iperf_client "${path_addr[$p]}" "${path_port[$p]}" "$IPERF_T" "$work/iperf-$p-$i.json"); then
        echo "$p $kbit 0" >>"$work/tput"
      else
        echo "$p 0 1" >>"$work/tput"
        echo "$p round $i failed: $(tail -n 1 "$work/iperf-$p-$i.json")" >&2
        rc=1
      fi
    done
  done
fi

# gbit PATH: the median of PATH in Gbit/s ("" when none).
gbit() { bench_stats "$work/tput" "$1" | awk '$1 != "nan" { printf "%.2f", $1 / 1000 }'; }
fmt() { [ -n "$1" ] && echo "$1 Gbit/s" || echo n/a; }
declare -A g=()
for t in "${ttools[@]}"; do
  for s in lo addr direct; do g[$t-$s]=$(gbit "$t-$s"); done
  echo "$t: published 127.0.0.1:${hport[$t]} $(fmt "${g[$t-lo]}"), published $HOST_ADDR:${hport[$t]} $(fmt "${g[$t-addr]}"), direct ${cip[$t]}:5201 $(fmt "${g[$t-direct]}"); published/direct $(ratio "${g[$t-lo]}" "${g[$t-direct]}") (127.0.0.1), $(ratio "${g[$t-addr]}" "${g[$t-direct]}") ($HOST_ADDR)"
done
echo "ratio silo/docker published: $(ratio "${g[silo-lo]:-}" "${g[docker-lo]:-}") (127.0.0.1), $(ratio "${g[silo-addr]:-}" "${g[docker-addr]:-}") ($HOST_ADDR)"

# --- the result ----------------------------------------------------------------------------
msg() { awk -v m="$1" 'BEGIN { if (m == "" || m == "nan") print "n/a"; else printf "%.1f ms", m }'; }
part() { # part TOOL RATIO: "docker 701.2 ms (0.057x)" or "docker n/a"
  if [ -z "${ready[$1]:-}" ]; then
    echo "$1 n/a"
  elif [ "$2" = n/a ]; then
    echo "$1 $(msg "${ready[$1]}")"
  else
    echo "$1 $(msg "${ready[$1]}") ($2)"
  fi
}
silo_na="n/a (silo cannot publish yet)"
if [ $silo_ok = 1 ]; then s_start=$(msg "${ready[silo]:-}"); else s_start=$silo_na; fi
echo "net start ready: silo $s_start, $(part docker "$r_docker"), $(part podman "$r_podman") (goal <= ${GOAL_START}x docker)"
if [ $silo_ok != 1 ]; then
  verdict=$silo_na
elif [ "$r_docker" = n/a ]; then
  verdict="n/a (no docker or silo median)"
elif awk -v r="${r_docker%x}" -v g="$GOAL_START" 'BEGIN { exit !(r <= g) }'; then
  verdict="met ($r_docker)"
else
  verdict="not met ($r_docker)"
fi
echo "goal: start (ready) <= ${GOAL_START}x docker: $verdict"

# The silo ratio is the lower of the two published paths.
pub=$(awk -v a="${g[silo-lo]:-}" -v b="${g[silo-addr]:-}" 'BEGIN { if (a == "" || b == "") exit; printf "%.2f", (a < b) ? a : b }')
r_direct=$(ratio "$pub" "${g[silo-direct]:-}")
dpub=$(awk -v a="${g[docker-lo]:-}" -v b="${g[docker-addr]:-}" 'BEGIN { if (a == "" || b == "") exit; printf "%.2f", (a < b) ? a : b }')
r_dpub=$(ratio "$pub" "$dpub")
if [ $silo_ok = 1 ]; then
  echo "net throughput: silo published $(fmt "$pub") = $r_direct direct, $r_dpub docker published (goal >= ${GOAL_TPUT}x direct)"
else
  echo "net throughput: silo $silo_na; docker published $(fmt "$dpub") = $(ratio "$dpub" "${g[docker-direct]:-}") direct (goal >= ${GOAL_TPUT}x direct)"
fi
if [ $silo_ok != 1 ]; then
  verdict=$silo_na
elif [ "$r_direct" = n/a ]; then
  verdict="n/a (no silo throughput)"
elif awk -v r="${r_direct%x}" -v g="$GOAL_TPUT" 'BEGIN { exit !(r >= g) }'; then
  verdict="met ($r_direct)"
else
  verdict="not met ($r_direct)"
fi
echo "goal: published/direct >= ${GOAL_TPUT}: $verdict"
exit $rc
