# Shared by lifecycle.bats and restore.bats: one silod in a throwaway test host per test
# file, driven by the docker CLI; teardown removes every container it made (through the
# daemon, then by pid for anything left), stops the daemon by pid and removes the host.

: "${SILO_BUILD:=$(cd "$BATS_TEST_DIRNAME/../../build" && pwd)}"
load ../lib/testhost
: "${SILOD:=$SILO_BUILD/silod}"

lc_require() {
  [ -x "$SILOD" ] || skip "skipped, because $SILOD is not built (cmake --build build --target silod)"
  [ -x "$SILO_BUILD/silo-shim" ] || skip "skipped, because $SILO_BUILD/silo-shim is not built"
  command -v docker >/dev/null || skip "skipped, because the docker CLI is not installed"
  file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
    skip "skipped, because /bin/busybox is not the static busybox (busybox-static)"
}

# Sets up the host and paths (exported, so tests of the file see them).
lc_setup_host() {
  testhost_setup
  export TH_DIR TH_NS TH_STATE
  export SOCK="$TH_DIR/silo.sock" ROOT="$TH_DIR/root" RUN="$TH_DIR/run"
  export DOCKER_CONFIG="$TH_DIR/docker-config" DOCKER_HOST="unix://$TH_DIR/silo.sock"
  unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_API_VERSION
  echo '{}' >"$TH_DIR/daemon.json"
  # The cgroup parent this daemon gives its containers (engine.cc).
  export CG_PARENT="silo-$(printf %s "$ROOT" | sha256sum | cut -c1-12)"
}

# Starts silod (log appended to $TH_DIR/silod.log) and waits for its socket.
lc_start_silod() {
  nsenter --net="/run/netns/$TH_NS" "$SILOD" --data-root "$ROOT" --exec-root "$RUN" \
    -H "unix://$SOCK" --config-file "$TH_DIR/daemon.json" </dev/null >>"$TH_DIR/silod.log" 2>&1 3>&- &
  echo $! >"$TH_DIR/silod.pid.bats"
  local n=100
  until [ -S "$SOCK" ] && dk version >/dev/null 2>&1; do
    n=$((n - 1))
    if [ "$n" -le 0 ]; then
      echo "silod did not answer within 10s; its log:" >&2
      cat "$TH_DIR/silod.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

lc_silod_pid() { cat "$TH_DIR/silod.pid.bats" 2>/dev/null; }

lc_stop_silod() {
  local pid
  pid=$(lc_silod_pid)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid"
  local n=100
  while kill -0 "$pid" 2>/dev/null && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  return 0
}

# Pids of silo-shim processes serving this test's runtime root.
lc_shims() {
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q "silo-shim.*--runtime-root $RUN/runtime " &&
      echo "${p#/proc/}"
  done
  return 0
}

lc_teardown_host() {
  [ -n "${TH_DIR:-}" ] || return 0
  if [ -S "$SOCK" ] && kill -0 "$(lc_silod_pid)" 2>/dev/null; then
    local ids
    ids=$(dk ps -aq 2>/dev/null)
    [ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
  fi
  lc_stop_silod
  local pid
  for pid in $(lc_shims); do kill -KILL "$pid" 2>/dev/null; done
  local d
  for d in /sys/fs/cgroup/*/"$CG_PARENT"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  testhost_teardown
}

# The docker CLI in the test host.
dk() { th_in_host docker "$@"; }

# dk_inspect REF FORMAT
dk_inspect() { dk inspect -f "$2" "$1"; }
