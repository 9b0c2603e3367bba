# A test silod for bats suites: started inside a throwaway test host (a network
# namespace with only loopback, see testhost.bash) with its own --data-root, --exec-root,
# -H socket and daemon.json under the test's scratch dir; stopped by its pid; everything
# it made (containers, shims, mounts, the namespace, the scratch dir) removed afterwards,
# also when the test fails.
#
# One daemon per test:
#   load ../lib/daemon
#   setup()    { daemon_setup; }           # test host + paths; no daemon yet
#   teardown() { daemon_teardown; }
#   @test "…" { start_silod; api /_ping; docker_cli ps; silo_cli ps; }
#
# One daemon per file (cheaper: start-up once), shared by the file's tests:
#   setup_file()    { daemon_setup_file; }  # test host + a running silod, all exported
#   teardown_file() { daemon_teardown_file; }
#   setup()         { daemon_require; }     # skips when setup_file could not start it
#
# Variables (exported): SILOD, SILO_CLI, SOCK, ROOT, RUN, CONF, SILOD_PID, SILOD_LOG,
# DOCKER_HOST, DOCKER_CONFIG; and testhost.bash's TH_NS, TH_DIR.

_daemon_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SILO_BUILD:=$(cd "$_daemon_lib_dir/../../build" 2>/dev/null && pwd)}"
# shellcheck source=testhost.bash
source "$_daemon_lib_dir/testhost.bash"

: "${SILOD:=$SILO_BUILD/silod}"
: "${SILO_CLI:=$SILO_BUILD/silo}"

# Skips the test unless silod can run here (root, tools, built binaries, rootfs).
daemon_require_built() {
  th_require_root
  [ -x "$SILOD" ] || skip "skipped, because $SILOD is not built (cmake --build build --target silod)"
}

# Skips the test unless the shim that runs containers is built.
require_shim() {
  [ -x "$SILO_BUILD/silo-shim" ] || skip "skipped, because $SILO_BUILD/silo-shim is not built (cmake --build build --target silo-shim)"
}

# Sets the daemon's paths under TH_DIR and points the docker CLI and SDKs at its socket.
_daemon_paths() {
  export TH_DIR TH_NS TH_STATE
  export SOCK="$TH_DIR/silo.sock" ROOT="$TH_DIR/root" RUN="$TH_DIR/run" CONF="$TH_DIR/daemon.json"
  export SILOD_LOG="$TH_DIR/silod.log"
  [ -f "$CONF" ] || echo '{}' >"$CONF"
  # The docker CLI keeps its config (contexts, auth) here, not in root's home.
  export DOCKER_CONFIG="$TH_DIR/docker-config"
  export DOCKER_HOST="unix://$SOCK"
  unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_API_VERSION
  export SILOD SILO_CLI SILO_BUILD
}

# setup(): the test host and the daemon's paths; start the daemon with start_silod.
daemon_setup() {
  testhost_setup
  daemon_require_built
  SILOD_PID=
  _daemon_paths
}

# teardown(): removes the daemon's containers, stops it, ends any shim it left, and
# removes the test host.
daemon_teardown() {
  [ -n "${TH_DIR:-}" ] || return 0
  stop_silod
  testhost_teardown
}

# setup_file(): the test host and a running daemon (FLAGS go to silod), shared by every
# test in the file. When it cannot start, DAEMON_SKIP (or DAEMON_ERROR) says why and
# daemon_require skips (or fails) each test.
daemon_setup_file() {
  export DAEMON_SKIP='' DAEMON_ERROR=''
  # bats does not allow skip in setup_file: keep the first reason for every test.
  # (It returns 0: setup_file runs under errexit.)
  skip() { [ -n "$DAEMON_SKIP" ] || DAEMON_SKIP=${1:-skipped}; }
  th_require_root
  [ -n "$DAEMON_SKIP" ] || daemon_require_built
  unset -f skip
  [ -z "$DAEMON_SKIP" ] || return 0
  TH_DIR=$(mktemp -d /tmp/silo-th.XXXXXX)
  if ! _daemon_file_host; then
    export DAEMON_ERROR="could not create the test host (network namespace $TH_NS)"
    return 0
  fi
  SILOD_PID=
  _daemon_paths
  if ! start_silod "$@" >"$TH_DIR/start.err" 2>&1; then
    export DAEMON_ERROR="silod did not start: $(cat "$TH_DIR/start.err")"
  fi
  export SILOD_PID
}

# The test host of daemon_setup_file (testhost_setup without its skip checks).
_daemon_file_host() {
  TH_NS="silo-th-$$-file"
  TH_STATE="$TH_DIR/state"
  TH_CONTAINERS=()
  TH_EXTRA_NETNS=()
  mkdir -p "$TH_STATE"
  ip netns add "$TH_NS" && ip -n "$TH_NS" link set lo up
}

# teardown_file(): as daemon_teardown, for the file's daemon.
daemon_teardown_file() { daemon_teardown; }

# setup() of a file that uses daemon_setup_file: skips or fails when its daemon is not
# there, else just checks it still answers.
daemon_require() {
  [ -z "${DAEMON_SKIP:-}" ] || skip "$DAEMON_SKIP"
  if [ -n "${DAEMON_ERROR:-}" ]; then
    echo "$DAEMON_ERROR"
    return 1
  fi
  kill -0 "$SILOD_PID" 2>/dev/null || {
    echo "silod (pid $SILOD_PID) is gone; its log:"
    cat "$SILOD_LOG"
    return 1
  }
}

# Starts silod in the test host with the test's paths (extra flags appended) unless one
# of ours already runs, and waits (10 s) for /_ping. Output goes to $SILOD_LOG.
start_silod() {
  if [ -n "${SILOD_PID:-}" ] && kill -0 "$SILOD_PID" 2>/dev/null; then
    return 0
  fi
  nsenter --net="/run/netns/$TH_NS" "$SILOD" --data-root "$ROOT" --exec-root "$RUN" \
    -H "unix://$SOCK" --config-file "$CONF" "$@" </dev/null >>"$SILOD_LOG" 2>&1 3>&- &
  SILOD_PID=$!
  if ! th_wait_for 100 _silod_up_or_gone || ! kill -0 "$SILOD_PID" 2>/dev/null; then
    if kill -0 "$SILOD_PID" 2>/dev/null; then
      echo "silod (pid $SILOD_PID) did not answer on $SOCK within 10s; its log:"
    else
      local rc=0
      wait "$SILOD_PID" 2>/dev/null || rc=$?
      echo "silod exited with status $rc before answering on $SOCK; its log:"
      SILOD_PID=
    fi
    cat "$SILOD_LOG"
    return 1
  fi
}

# True once our silod answers or has exited (start_silod then stops waiting).
_silod_up_or_gone() { silod_ping_ok || ! kill -0 "$SILOD_PID" 2>/dev/null; }

# Removes every container of our daemon (API, force), stops it (SIGTERM, then SIGKILL
# after 10 s), then deletes what a crash or a kill left: runtime containers under its
# exec root and shims started for it (found by their --runtime-root, ended by pid).
stop_silod() {
  if [ -n "${SILOD_PID:-}" ] && kill -0 "$SILOD_PID" 2>/dev/null; then
    if command -v curl >/dev/null && command -v jq >/dev/null; then
      local id
      for id in $(TH_TIMEOUT=10 api '/containers/json?all=1' 2>/dev/null | jq -r '.[].Id' 2>/dev/null); do
        TH_TIMEOUT=20 api -X DELETE "/containers/$id?force=1&v=1" >/dev/null 2>&1 || true
      done
    fi
    kill -TERM "$SILOD_PID" 2>/dev/null
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$SILOD_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SILOD_PID" 2>/dev/null; then
      echo "silod (pid $SILOD_PID) ignored SIGTERM for 10s; killing it" >&2
      kill -KILL "$SILOD_PID" 2>/dev/null
    fi
    wait "$SILOD_PID" 2>/dev/null || true
  fi
  SILOD_PID=
  _remove_daemon_cgroups
  [ -n "${RUN:-}" ] || return 0
  # Runtime containers the daemon left (their shims then exit too).
  local rt_root="$RUN/runtime" c
  if [ -d "$rt_root" ] && [ -x "$SILO_RUNTIME" ]; then
    for c in $("$SILO_RUNTIME" --root "$rt_root" list -q 2>/dev/null) "$rt_root"/*; do
      c=${c##*/}
      [ "$c" != "*" ] || continue
      timeout 20 nsenter --net="/run/netns/$TH_NS" "$SILO_RUNTIME" --root "$rt_root" delete --force "$c" >/dev/null 2>&1 || true
    done
  fi
  # Shims started for this daemon: their command line names our runtime root. (grep
  # finds candidates in one pass, its own cmdline among them; each is checked again.)
  [ -e "$rt_root" ] || [ -e "$RUN/shims" ] || return 0
  local f pid
  for f in $(grep -alsF -- "$rt_root" /proc/[0-9]*/cmdline); do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    [ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] || continue
    if tr '\0' '\n' <"$f" 2>/dev/null | grep -qxF -- "$rt_root"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  return 0
}

# The daemon's cgroup parent, silo-<first 12 hex of sha256(data root)> in each hierarchy
# (src/engine), once empty: rmdir removes only empty cgroups, so a container still
# running keeps its parent.
_remove_daemon_cgroups() {
  [ -n "${ROOT:-}" ] || return 0
  local h d
  h=$(printf %s "$ROOT" | sha256sum | cut -c1-12)
  for d in /sys/fs/cgroup/*/"silo-$h" /sys/fs/cgroup/"silo-$h"; do
    [ -d "$d" ] || continue
    find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
    rmdir "$d" 2>/dev/null || true
  done
  return 0
}

# The daemon answers /_ping (or, without curl, at least its socket exists).
silod_ping_ok() {
  command -v curl >/dev/null || { [ -S "$SOCK" ]; return; }
  [ "$(TH_TIMEOUT=5 api /_ping)" = OK ]
}

# api [CURL OPTIONS] PATH: a request on the daemon's socket from inside the test host.
api() {
  local path=${*: -1}
  th_in_host curl -sS --unix-socket "$SOCK" "${@:1:$#-1}" "http://silo$path"
}

# The docker CLI and Silo's CLI against the daemon, from inside the test host.
docker_cli() { th_in_host docker -H "unix://$SOCK" "$@"; }
silo_cli() { th_in_host "$SILO_CLI" -H "unix://$SOCK" "$@"; }

# Skips the test when a client it needs is missing.
require_curl() { command -v curl >/dev/null || skip "skipped, because curl is not installed"; }
require_docker() { command -v docker >/dev/null || skip "skipped, because the docker CLI is not installed"; }
require_silo_cli() { [ -x "$SILO_CLI" ] || skip "skipped, because $SILO_CLI is not built (cmake --build build --target silo)"; }
require_docker_sdk() {
  python3 -c 'import docker' 2>/dev/null || skip "skipped, because the python docker SDK is not installed (import docker failed)"
}
