# Shared by the bench scripts (sourced).

# bench_delete_all RUNTIME STATE NS: force-deletes every container under --root STATE,
# inside network namespace NS. Ids come from the runtime's own list and from its state
# dir (one dir a container in runc), so half-created ones go too.
bench_delete_all() {
  local rt=$1 st=$2 ns=$3 id
  [ -d "$st" ] || return 0
  for id in $("$rt" --root "$st" list -q 2>/dev/null) "$st"/*; do
    id=${id##*/}
    [ "$id" != "*" ] || continue
    nsenter --net="/run/netns/$ns" "$rt" --root "$st" delete --force "$id" >/dev/null 2>&1
  done
}

# bench_netns NS: makes the throwaway network namespace NS with only lo, up.
bench_netns() {
  ip netns add "$1" || return 1
  ip -n "$1" link set lo up
}

# bench_preflight RUNTIME ROOTFS: exits the bench — 0 with "skipped, because …" when not
# root, 1 with an error when the runtime, the rootfs or a tool is missing.
bench_preflight() {
  [ "$(id -u)" = 0 ] || { echo "skipped, because this bench needs root"; exit 0; }
  [ -x "$1" ] || { echo "error: $1 is not built (make build)" >&2; exit 1; }
  [ -x "$2/bin/busybox" ] || { echo "error: busybox rootfs missing at $2 (make rootfs)" >&2; exit 1; }
  local t
  for t in ip nsenter jq; do command -v $t >/dev/null || { echo "error: $t is not installed" >&2; exit 1; }; done
}

# --- daemons for the container-level benches (run-latency.sh, rss.sh) -----------------
# Each daemon runs inside the bench's throwaway network namespace with every path of its
# own under the bench's work dir; the stop functions end exactly the processes started
# here, by pid, and remove what the daemon made.

# bench_wait TENTHS CMD...: polls CMD every 0.1 s until it succeeds; fails on timeout.
bench_wait() {
  local n=$1; shift
  while ! "$@" >/dev/null 2>&1; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    sleep 0.1
  done
}

# bench_ping SOCKET: true when the daemon on SOCKET answers /_ping with OK.
bench_ping() { [ "$(curl -sS -m 5 --unix-socket "$1" http://d/_ping 2>/dev/null)" = OK ]; }

# bench_rss PID: VmRSS of PID in KiB ("" when gone).
bench_rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

# bench_ppid PID: the parent of PID.
bench_ppid() { awk '$1 == "PPid:" { print $2 }' "/proc/$1/status" 2>/dev/null; }

# bench_umount_under DIR: lazily unmounts everything mounted under DIR, deepest first.
bench_umount_under() {
  grep -o " $1/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}

# bench_start_silod BUILD DIR NS: starts BUILD/silod in NS with --data-root DIR/root,
# --exec-root DIR/run, -H unix://DIR/silod.sock (log DIR/silod.log), waits 20 s for
# /_ping. Sets SILOD_PID and SILOD_SOCK. A DIR/daemon.json written beforehand is kept
# (else it is {}).
bench_start_silod() {
  local build=$1 dir=$2 ns=$3
  mkdir -p "$dir"
  [ -f "$dir/daemon.json" ] || echo '{}' >"$dir/daemon.json"
  SILOD_SOCK="$dir/silod.sock"
  nsenter --net="/run/netns/$ns" "$build/silod" --data-root "$dir/root" --exec-root "$dir/run" \
    -H "unix://$SILOD_SOCK" --config-file "$dir/daemon.json" </dev/null >"$dir/silod.log" 2>&1 &
  SILOD_PID=$!
  bench_wait 200 bench_ping "$SILOD_SOCK" || {
    echo "error: silod did not answer on $SILOD_SOCK within 20 s; its log:" >&2
    tail -n 20 "$dir/silod.log" >&2
    return 1
  }
}

# bench_stop_silod BUILD DIR NS: removes the daemon's containers, stops it by pid
# (SIGTERM, SIGKILL after 10 s), deletes runtime containers and ends shims it left.
bench_stop_silod() {
  local build=$1 dir=$2 ns=$3 id i f pid
  if [ -n "${SILOD_PID:-}" ] && kill -0 "$SILOD_PID" 2>/dev/null; then
    for id in $(curl -sS -m 10 --unix-socket "$SILOD_SOCK" 'http://d/containers/json?all=1' 2>/dev/null | jq -r '.[].Id' 2>/dev/null); do
      curl -sS -m 20 --unix-socket "$SILOD_SOCK" -X DELETE "http://d/containers/$id?force=1&v=1" >/dev/null 2>&1
    done
    kill -TERM "$SILOD_PID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$SILOD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SILOD_PID" 2>/dev/null
    wait "$SILOD_PID" 2>/dev/null
  fi
  SILOD_PID=
  if [ -d "$dir/run/runtime" ]; then
    bench_delete_all "$build/silo-runc" "$dir/run/runtime" "$ns"
    for f in $(grep -alsF -- "$dir/run/runtime" /proc/[0-9]*/cmdline); do
      pid=${f#/proc/}; pid=${pid%/cmdline}
      [ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] || continue
      tr '\0' '\n' <"$f" 2>/dev/null | grep -qxF -- "$dir/run/runtime" && kill -KILL "$pid" 2>/dev/null
    done
  fi
  # The daemon's cgroup parent (/silo-<12 hex of sha256(data root)>), once empty.
  local h d
  h=$(printf %s "$dir/root" | sha256sum | cut -c1-12)
  for d in /sys/fs/cgroup/*/"silo-$h" /sys/fs/cgroup/"silo-$h"; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null
  done
  return 0
}

# bench_start_dockerd DIR NS ROOTFS: starts dockerd (no bridge, no iptables) in NS with
# --data-root DIR/root, --exec-root DIR/exec, -H unix://DIR/docker.sock; it starts its own
# containerd. Waits 60 s for /_ping, then imports ROOTFS as the image busybox (none when
# ROOTFS is ""). Sets DOCKERD_PID and DOCKERD_SOCK; the docker CLI gets
# DOCKER_CONFIG=DIR/config. A DIR/daemon.json written beforehand is kept (else it is {}).
bench_start_dockerd() {
  local dir=$1 ns=$2 rootfs=$3
  mkdir -p "$dir"
  [ -f "$dir/daemon.json" ] || echo '{}' >"$dir/daemon.json"
  DOCKERD_SOCK="$dir/docker.sock"
  nsenter --net="/run/netns/$ns" dockerd --bridge=none --iptables=false --ip6tables=false \
    --data-root "$dir/root" --exec-root "$dir/exec" -H "unix://$DOCKERD_SOCK" \
    --pidfile "$dir/dockerd.pid" --config-file "$dir/daemon.json" </dev/null >"$dir/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  bench_wait 600 bench_ping "$DOCKERD_SOCK" || {
    echo "error: dockerd did not answer on $DOCKERD_SOCK within 60 s; its log:" >&2
    tail -n 20 "$dir/dockerd.log" >&2
    return 1
  }
  [ -n "$rootfs" ] || return 0
  tar -C "$rootfs" -c . | DOCKER_CONFIG="$dir/config" timeout 120 docker -H "unix://$DOCKERD_SOCK" import - busybox >/dev/null || {
    echo "error: docker import of $rootfs failed" >&2
    return 1
  }
}

# bench_containerd_pid: the containerd that our dockerd started (its child), or "".
bench_containerd_pid() {
  local d
  for d in /proc/[0-9]*; do
    [ "$(bench_ppid "${d#/proc/}")" = "${DOCKERD_PID:-x}" ] && [ "$(cat "$d/comm" 2>/dev/null)" = containerd ] && { echo "${d#/proc/}"; return; }
  done
}

# bench_stop_dockerd DIR: removes its containers, stops dockerd by pid (SIGTERM, then
# SIGKILL after 20 s, and then its containerd by pid too), unmounts what it left under
# DIR.
bench_stop_dockerd() {
  local dir=$1 ctd i ids
  if [ -n "${DOCKERD_PID:-}" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    ctd=$(bench_containerd_pid)
    ids=$(DOCKER_CONFIG="$dir/config" timeout 30 docker -H "unix://$DOCKERD_SOCK" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || DOCKER_CONFIG="$dir/config" timeout 60 docker -H "unix://$DOCKERD_SOCK" rm -f $ids >/dev/null 2>&1
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    for ((i = 0; i < 200; i++)); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
      kill -KILL "$DOCKERD_PID" 2>/dev/null
      [ -n "$ctd" ] && kill -TERM "$ctd" 2>/dev/null
    fi
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  DOCKERD_PID=
  bench_umount_under "$dir"
}

# bench_podman DIR: sets PODMAN, the podman command line with every path of its own
# under DIR (store, run root, tmp dir, network config, volumes), cgroupfs and file
# events, and PODMAN_RUN, the flags our runs need (a cgroup parent of our own; finite
# rlimits: podman's defaults exceed what unprivileged hosts allow).
bench_podman() {
  local dir=$1
  PODMAN=(podman --root "$dir/store" --runroot "$dir/run" --tmpdir "$dir/tmp"
    --network-config-dir "$dir/net" --volumepath "$dir/vol"
    --cgroup-manager cgroupfs --events-backend file)
  PODMAN_CGPARENT="/silo-bench-pm-$$"
  PODMAN_RUN=(--cgroup-parent "$PODMAN_CGPARENT" --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
}

# bench_podman_cleanup DIR NS: removes podman's containers and images, unmounts its
# store, removes our cgroup parent (empty cgroups only).
bench_podman_cleanup() {
  local dir=$1 ns=$2
  [ -n "${PODMAN_CGPARENT:-}" ] || return 0
  timeout 60 nsenter --net="/run/netns/$ns" "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1
  timeout 60 nsenter --net="/run/netns/$ns" "${PODMAN[@]}" rmi -af >/dev/null 2>&1
  bench_umount_under "$dir"
  find /sys/fs/cgroup/*"$PODMAN_CGPARENT" -depth -type d -exec rmdir {} \; 2>/dev/null
  return 0
}

# bench_stats TIMES K: "median_ms p90_ms failures count" for tool K of a timing file whose
# lines are "K MICROSECONDS RC" (median of the successful runs, nearest-rank p90).
bench_stats() {
  local times=$1 k=$2 cnt fails
  cnt=$(awk -v k="$k" '$1 == k' "$times" | wc -l)
  fails=$(awk -v k="$k" '$1 == k && $3 != 0' "$times" | wc -l)
  awk -v k="$k" '$1 == k && $3 == 0 { print $2 }' "$times" | sort -n |
    awk -v f="$fails" -v c="$cnt" '{ v[NR] = $1 } END {
      if (NR == 0) { printf "nan nan %d %d\n", f, c; exit }
      m = int((NR + 1) / 2); p = int(NR * 0.9 + 0.999999); if (p < 1) p = 1;
      med = (NR % 2) ? v[m] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
      printf "%.1f %.1f %d %d\n", med / 1000, v[p] / 1000, f, c }'
}
