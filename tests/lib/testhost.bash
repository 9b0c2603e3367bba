# Shared helpers for bats suites. Every test that makes containers runs inside a
# throwaway network namespace of its own (a "test host") with no route off the machine,
# and removes everything it made in teardown, also when it fails.
#
# Use:  load ../../lib/testhost
#       setup()    { testhost_setup; }
#       teardown() { testhost_teardown; }
# Then: th_rt run --bundle "$(th_bundle)" c1   # runs the runtime inside the test host

: "${SILO_BUILD:=$(cd "$BATS_TEST_DIRNAME/../../../build" && pwd)}"
: "${SILO_RUNTIME:=$SILO_BUILD/silo-runc}"
SILO_ROOTFS=${SILO_ROOTFS:-$SILO_BUILD/rootfs/busybox}

# Skips the test unless we are root with the tools the suite needs.
th_require_root() {
  [ "$(id -u)" = 0 ] || skip "skipped, because this test needs root (namespaces, mounts, cgroups)"
  command -v ip >/dev/null || skip "skipped, because iproute2 (ip) is not installed"
  command -v jq >/dev/null || skip "skipped, because jq is not installed"
  [ -x "$SILO_RUNTIME" ] || skip "skipped, because $SILO_RUNTIME is not built (make build)"
  [ -x "$SILO_ROOTFS/bin/busybox" ] || skip "skipped, because the busybox rootfs is missing (make rootfs)"
}

# Creates the test host: a network namespace with only a loopback, a state root and a
# scratch dir. Sets TH_NS, TH_DIR, TH_STATE.
testhost_setup() {
  th_require_root
  TH_DIR=$(mktemp -d /tmp/silo-th.XXXXXX)
  TH_NS="silo-th-$$-${BATS_TEST_NUMBER:-0}"
  TH_STATE="$TH_DIR/state"
  TH_CONTAINERS=()
  TH_EXTRA_NETNS=()
  mkdir -p "$TH_STATE"
  ip netns add "$TH_NS"
  ip -n "$TH_NS" link set lo up
}

# Removes everything the test made: its containers (by id, through the runtime), the
# namespace and the scratch dir. Never touches anything it did not create.
testhost_teardown() {
  [ -n "${TH_DIR:-}" ] || return 0
  local id ns
  for id in "${TH_CONTAINERS[@]}"; do
    th_rt delete --force "$id" >/dev/null 2>&1 || true
  done
  for ns in "${TH_EXTRA_NETNS[@]}"; do
    ip netns delete "$ns" 2>/dev/null || true
  done
  [ -n "${TH_NS:-}" ] && ip netns delete "$TH_NS" 2>/dev/null
  # Lazy-unmount anything a failed test left under the scratch dir, then remove it.
  grep -o " $TH_DIR[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$TH_DIR"
}

# Remembers a container id so teardown deletes it.
th_track() { TH_CONTAINERS+=("$1"); }

# Makes a bundle dir NAME under the scratch dir from the runtime's default spec, not a
# terminal, rootfs = the busybox seed (read-only), and prints its path. Extra jq filters
# given as arguments are applied in order, e.g.
#   th_bundle b1 '.process.args=["sh","-c","echo hi"]'
th_bundle() {
  local name=${1:-bundle}; shift || true
  local b="$TH_DIR/$name"
  mkdir -p "$b"
  (cd "$b" && "$SILO_RUNTIME" spec >/dev/null) || return 1
  local f
  jq --arg root "$SILO_ROOTFS" '.process.terminal=false | .root.path=$root | .root.readonly=true' "$b/config.json" >"$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
  for f in "$@"; do
    jq "$f" "$b/config.json" >"$b/c.tmp" && mv "$b/c.tmp" "$b/config.json" || return 1
  done
  echo "$b"
}

# True when the runtime under test is Silo's (some assertions check Silo's own messages).
th_is_silo() { "$SILO_RUNTIME" --version 2>/dev/null | grep -q '^silo-runc'; }

# --- Added for the runtime cgroup/podman suites and bench ---------------------------
#
# `ip netns exec` unshares the mount namespace and remounts /sys, which hides every
# cgroup hierarchy under /sys/fs/cgroup: runc then fails with "no cgroup mount found in
# mountinfo". The helpers below enter only the test host's network namespace
# (nsenter --net), keeping the host's mounts, so cgroups stay visible.

# Runs a command inside the test host's network namespace, host mounts kept, bounded
# by TH_TIMEOUT seconds (default 60).
th_in_host() {
  timeout "${TH_TIMEOUT:-60}" nsenter --net="/run/netns/$TH_NS" "$@"
}

# Runs the runtime in the test host with the test's state root and the host's mounts
# (cgroups visible).
th_rt() {
  th_in_host "$SILO_RUNTIME" --root "$TH_STATE" "$@"
}

# Prints a container id unique on this machine (cgroup paths derive from ids, and other
# suites may run at the same time): PREFIX-<pid>-<test>-<random>.
th_new_id() { echo "${1:-c}-$$-${BATS_TEST_NUMBER:-0}-$RANDOM$RANDOM"; }

# Prints one field (jq path, e.g. .status) of `state ID`.
th_state() { th_rt state "$1" 2>/dev/null | jq -r "$2"; }

# Waits until `state ID` says STATUS, at most SECONDS (default 10). Fails on timeout.
th_wait_status() {
  local id=$1 want=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    [ "$(th_state "$id" .status)" = "$want" ] && return 0
    sleep 0.05
  done
  echo "container $id did not reach status $want within ${secs}s (now: $(th_state "$id" .status))" >&2
  return 1
}

# Prints the host directory of cgroup v1 controller CTRL (memory, cpu, pids, cpuset, ...)
# that process PID is in, e.g. /sys/fs/cgroup/memory/process_api/ab12/c1.
th_cgroup_dir() {
  local pid=$1 ctrl=$2 path mnt
  path=$(awk -F: -v c="$ctrl" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print $3; exit }}' "/proc/$pid/cgroup") || return 1
  mnt=$(awk -v c="$ctrl" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit }}' /proc/self/mounts)
  [ -n "$path" ] && [ -n "$mnt" ] || return 1
  echo "$mnt${path%/}"
}

# Prints every cgroup directory (all v1 hierarchies and the unified one) that process
# PID is in and the calling shell is not, i.e. the ones made for the container.
th_cgroup_dirs() {
  local pid=$1 id ctrls path own key mnt
  while IFS=: read -r id ctrls path; do
    own=$(awk -F: -v h="$id" '$1 == h { print $3; exit }' /proc/self/cgroup)
    [ "$path" = "$own" ] && continue
    if [ -z "$ctrls" ]; then
      mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
    else
      key=${ctrls%%,*}
      mnt=$(awk -v c="$key" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit }}' /proc/self/mounts)
    fi
    [ -n "$mnt" ] && echo "$mnt${path%/}"
  done <"/proc/$pid/cgroup"
}

# ---- Helpers added for the runtime suites (tests/integration/runtime) ----

# Runs a command in the test host's network namespace while keeping the machine's mounts.
# `ip netns exec` unshares the mount namespace and mounts a fresh /sys,
# which hides /sys/fs/cgroup: runc then fails with "no cgroup mount found in mountinfo".
th_exec() { nsenter --net="/run/netns/$TH_NS" "$@"; }

# Prints a container id unique to this test run, e.g. `th_id c` -> c-4242-3. Ids name
# the containers' cgroups, which every test host on the machine shares.
th_id() { echo "${1:-c}-$$-${BATS_TEST_NUMBER:-0}"; }

# Edits BUNDLE/config.json in place: th_jq BUNDLE [jq options] FILTER, e.g.
#   th_jq "$b" --arg d "$TH_DIR/x" '.mounts += [{destination: "/home", source: $d}]'
th_jq() {
  local b=$1; shift
  jq "$@" "$b/config.json" >"$b/c.tmp" && mv "$b/c.tmp" "$b/config.json"
}

# Sets the bundle's process.args to the remaining arguments: th_args BUNDLE sh -c 'echo $$'
th_args() {
  local b=$1; shift
  # One --arg per word: jq would take words such as -c for its own options.
  local opts=() filter='[' i=0 a
  for a in "$@"; do
    opts+=(--arg "a$i" "$a")
    filter+="\$a$i,"
    i=$((i + 1))
  done
  th_jq "$b" "${opts[@]}" ".process.args = ${filter%,}]"
}

# Adds a network namespace NAME for this test and remembers it for testhost_teardown.
th_netns_add() {
  ip netns add "$1" || return 1
  TH_EXTRA_NETNS+=("$1")
}

# Waits until COMMAND succeeds, polling every 0.1 s for at most TENTHS tenths of a
# second: th_wait_for 50 test -e "$f". Fails when time runs out.
th_wait_for() {
  local n=$1; shift
  while ! "$@" 2>/dev/null; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    sleep 0.1
  done
}

# Prints the status field of `state ID` ("" when state fails).
th_status() { th_rt state "$1" 2>/dev/null | jq -r .status 2>/dev/null; }

# True when container ID is in STATUS (for th_wait_for).
th_status_is() { [ "$(th_status "$1")" = "$2" ]; }

# The console-socket receiver (tests/tools/recvtty.cc); SILO_RECVTTY overrides it.
: "${SILO_RECVTTY:=$SILO_BUILD/tests/tools/silo-test-recvtty}"

# Makes bundle NAME like th_bundle (extra jq filters too) whose process is `sh -c SCRIPT`,
# and prints its path: b=$(th_sh_bundle b1 'echo $$' '.hostname="x"')
th_sh_bundle() {
  local name=$1 script=$2; shift 2
  local b
  b=$(th_bundle "$name" "$@") || return 1
  th_args "$b" sh -c "$script" || return 1
  echo "$b"
}

# setup() of suites with one container a test: the test host, and C, its tracked id.
th_setup_one() {
  testhost_setup
  C=$(th_id c)
  th_track "$C"
}

# Runs `sh -c SCRIPT` in a fresh container $C (bundle filters follow) with bats' `run`,
# leaving $status and $output (and echoing them for the failure report).
run_in_container() {
  local script=$1; shift
  local b
  b=$(th_sh_bundle b "$script" "$@")
  run th_rt run --bundle "$b" "$C"
  echo "status=$status output:"
  echo "$output"
}

# Copies the busybox seed to TH_DIR/NAME (default rootfs), owned by UID:GID (default
# 0:0), with the root dir mode 0755, and prints its path. For containers whose processes
# are not host root (process.user, user namespaces): the seed's root dir may be 0700.
# Use it with a filter: b=$(th_bundle b ".root.path=\"$(th_rootfs_copy)\"")
th_rootfs_copy() {
  local name=${1:-rootfs} owner=${2:-0:0}
  local r="$TH_DIR/$name"
  chmod 755 "$TH_DIR"
  cp -a "$SILO_ROOTFS" "$r" || return 1
  [ "$owner" = 0:0 ] || chown -R -h "$owner" "$r" || return 1
  chmod 755 "$r"
  echo "$r"
}

# Runs th_rt ARGS with stdin from /dev/null and stdout/stderr into a file, then prints
# that file and returns th_rt's status. For commands that leave a container process
# holding their stdio (create, run -d, exec -d): under bats' `run` that process would
# keep the output pipe open and the test would wait for it to exit.
th_rt_detached() {
  local out
  out=$(mktemp "$TH_DIR/rt-out.XXXXXX")
  local rc=0
  th_rt "$@" </dev/null >"$out" 2>&1 3>&- || rc=$?
  cat "$out"
  return "$rc"
}
