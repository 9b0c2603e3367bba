#!/usr/bin/env bats
# Podman driving the runtime under test (podman -> conmon -> runtime create/start/
# delete --force), the way most users meet a runc replacement. Everything podman keeps
# (store, run root, tmp dir, network config, volumes, cgroup parent) is private to the
# test and removed in teardown.
#
# Podman runs in the test host's network namespace through nsenter --net (th_in_host),
# not `ip netns exec`: the latter remounts /sys and so hides /sys/fs/cgroup, and both
# conmon ("creating cgroup for pids: mkdir /sys/fs/cgroup/pids: no such file or
# directory") and runc ("no cgroup mount found in mountinfo") then fail.

load ../../lib/testhost

setup() {
  command -v podman >/dev/null || skip "skipped, because podman is not installed"
  command -v conmon >/dev/null || [ -x /usr/libexec/podman/conmon ] || skip "skipped, because conmon (needed by podman) is not installed"
  testhost_setup
  command -v nsenter >/dev/null || skip "skipped, because nsenter (util-linux) is not installed"
  # Containers go under a cgroup parent of our own, not the shared libpod_parent.
  PM_CGPARENT="/silo-pm-$$-${BATS_TEST_NUMBER}-$RANDOM"
  PM=(podman --root "$TH_DIR/pstore" --runroot "$TH_DIR/prun" --tmpdir "$TH_DIR/ptmp"
    --network-config-dir "$TH_DIR/pnet" --volumepath "$TH_DIR/pvol"
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file
    --runtime "$SILO_RUNTIME")
  RUN_FLAGS=(--rm --cgroup-parent "$PM_CGPARENT" --network none
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
  tar -C "$SILO_ROOTFS" -c . | TH_TIMEOUT=120 th_in_host "${PM[@]}" import - silo-busybox >"$TH_DIR/import.log" 2>&1 || {
    cat "$TH_DIR/import.log" >&2
    echo "podman import of the busybox rootfs failed" >&2
    return 1
  }
}

pm() { TH_TIMEOUT=${TH_TIMEOUT:-120} th_in_host "${PM[@]}" "$@"; }

teardown() {
  [ -n "${TH_DIR:-}" ] || return 0
  if [ -n "${PM_CGPARENT:-}" ]; then
    # Wait (bounded) for conmon and its `podman container cleanup` child, which run in
    # <parent>/conmon, so nothing writes the store while we remove it.
    local i procs=/sys/fs/cgroup/pids$PM_CGPARENT/conmon/cgroup.procs
    for ((i = 0; i < 100; i++)); do
      [ -s "$procs" ] || break
      sleep 0.1
    done
    TH_TIMEOUT=30 pm rm -af -t 0 >/dev/null 2>&1 || true
    TH_TIMEOUT=30 pm rmi -af >/dev/null 2>&1 || true
  fi
  testhost_teardown
  # Our cgroup parent in every hierarchy, children first; rmdir removes empty cgroups only.
  if [ -n "${PM_CGPARENT:-}" ]; then
    find /sys/fs/cgroup/*"$PM_CGPARENT" -depth -type d -exec rmdir {} \; 2>/dev/null
  fi
  return 0
}

@test "podman run --rm true succeeds with the runtime" {
  run pm run "${RUN_FLAGS[@]}" silo-busybox true
  echo "status=$status output=$output"
  [ "$status" -eq 0 ]
}

@test "podman run echo hello prints hello" {
  run pm run "${RUN_FLAGS[@]}" silo-busybox echo hello
  echo "status=$status output=$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = hello ]
}

@test "podman run passes the container's exit status through" {
  run pm run "${RUN_FLAGS[@]}" silo-busybox sh -c 'exit 3'
  echo "status=$status output=$output"
  [ "$status" -eq 3 ]
}

@test "podman run --rm leaves no container and no container cgroup behind" {
  run pm run "${RUN_FLAGS[@]}" silo-busybox true
  [ "$status" -eq 0 ]
  run pm ps -aq
  echo "ps -a: $output"
  [ -z "$output" ]
  local left
  left=$(find /sys/fs/cgroup/*"$PM_CGPARENT" -mindepth 1 -maxdepth 1 -type d -name 'libpod-*' 2>/dev/null || true)
  echo "left: $left"
  [ -z "$left" ]
}
