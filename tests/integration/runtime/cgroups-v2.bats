#!/usr/bin/env bats
# The cgroup v2 driver on a real kernel. This host's controllers are bound to cgroup v1,
# with an empty v2 hierarchy beside them; each command here runs in a mount namespace of
# its own where that v2 hierarchy is mounted over /sys/fs/cgroup, so the runtime sees a
# pure v2 host and picks the v2 driver. With no controllers in v2, this checks the
# driver's own work: placing processes, cgroup.freeze, listing, removal, and a clear error
# when a limit's file is missing. Limits themselves are covered by the unit tests
# (tests/unit/runtime/cgroup_test.cc, on a fake v2 tree) and, on v1, by cgroups.bats.

load ../../lib/testhost

setup() {
  testhost_setup
  th_is_silo || skip "skipped, because this suite checks silo-runc's v2 driver"
  grep -qw cgroup2 /proc/filesystems || skip "skipped, because the kernel has no cgroup2"
  command -v unshare >/dev/null || skip "skipped, because unshare (util-linux) is not installed"
  V2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
  [ -n "$V2" ] || skip "skipped, because no cgroup2 hierarchy is mounted on this host"
  C=$(th_id c2)
}

teardown() {
  [ -n "${TH_NS:-}" ] && [ -n "${C:-}" ] && v2rt delete --force "$C" >/dev/null 2>&1
  testhost_teardown
  # Our container's v2 cgroup, should a failed test have left it (rmdir: empty ones only).
  [ -n "${V2:-}" ] && [ -n "${C:-}" ] && rmdir "$V2/silo/$C" 2>/dev/null
  return 0
}

# v2rt ARGS...: the runtime in the test host, with cgroup2 mounted over /sys/fs/cgroup.
v2rt() {
  ip netns exec "$TH_NS" unshare -m sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' \
    sh "$SILO_RUNTIME" --root "$TH_STATE" "$@"
}

@test "v2: the container's process is in /silo/<id> of the v2 hierarchy" {
  b=$(th_sh_bundle b 'grep "^0::" /proc/self/cgroup')
  run v2rt run --bundle "$b" "$C"
  echo "status=$status output=$output"
  [ "$status" -eq 0 ]
  [ "$output" = "0::/silo/$C" ]
  [ ! -d "$V2/silo/$C" ]
}

@test "v2: pause and resume use cgroup.freeze; delete removes the cgroup" {
  b=$(th_sh_bundle b 'sleep 60')
  v2rt create --bundle "$b" "$C" </dev/null >/dev/null 2>&1
  v2rt start "$C"
  [ -d "$V2/silo/$C" ]
  pid=$(v2rt state "$C" | jq -r .pid)
  grep -qx "$pid" "$V2/silo/$C/cgroup.procs"
  v2rt pause "$C"
  [ "$(v2rt state "$C" | jq -r .status)" = paused ]
  [ "$(cat "$V2/silo/$C/cgroup.freeze")" = 1 ]
  v2rt resume "$C"
  [ "$(v2rt state "$C" | jq -r .status)" = running ]
  [ "$(cat "$V2/silo/$C/cgroup.freeze")" = 0 ]
  run v2rt ps --format json "$C"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq length)" -eq 1 ]
  v2rt delete --force "$C"
  [ ! -d "$V2/silo/$C" ]
  # Gone, or a zombie waiting for its reaper.
  state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -z "$state" ] || [ "$state" = Z ]
}

@test "v2: a limit whose controller is not enabled fails at create, naming the file" {
  b=$(th_sh_bundle b 'echo never' '.linux.resources.pids = {"limit": 64}')
  run v2rt run --bundle "$b" "$C"
  echo "status=$status output=$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"/silo/$C/pids.max"* ]]
  [[ "$output" != *never* ]]
  [ ! -d "$V2/silo/$C" ]
  run v2rt state "$C"
  [ "$status" -ne 0 ]
}
