# Shared helpers for bats suites. Every test that makes containers runs inside a
# throwaway network namespace of its own (a "test host") with no route off the machine,
# and removes everything it made in teardown, also when it fails.
#
# Use:  load ../../lib/testhost
#       setup()    { testhost_setup; }
#       teardown() { testhost_teardown; }
# Then: th_runtime run --bundle "$(th_bundle)" c1   # runs the runtime inside the test host

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
  mkdir -p "$TH_STATE"
  ip netns add "$TH_NS"
  ip -n "$TH_NS" link set lo up
}

# Removes everything the test made: its containers (by id, through the runtime), the
# namespace and the scratch dir. Never touches anything it did not create.
testhost_teardown() {
  [ -n "${TH_DIR:-}" ] || return 0
  local id
  for id in "${TH_CONTAINERS[@]}"; do
    th_runtime delete --force "$id" >/dev/null 2>&1 || true
  done
  [ -n "${TH_NS:-}" ] && ip netns delete "$TH_NS" 2>/dev/null
  # Lazy-unmount anything a failed test left under the scratch dir, then remove it.
  grep -o " $TH_DIR[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$TH_DIR"
}

# Runs the runtime inside the test host with the test's state root.
th_runtime() {
  ip netns exec "$TH_NS" "$SILO_RUNTIME" --root "$TH_STATE" "$@"
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
