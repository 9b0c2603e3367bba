#!/usr/bin/env bats
# The namespaces a container gets: seen from inside the busybox container, compared with
# the test host. Runs against silo-runc, or any runc-compatible runtime (SILO_RUNTIME).

load ../../lib/testhost

setup() { th_setup_one; }
teardown() { testhost_teardown; }

@test "the container process is pid 1 of its own pid namespace" {
  run_in_container 'echo $$'
  [ "$status" -eq 0 ]
  [ "$output" = 1 ]
}

@test "hostname prints the hostname from the config and the host's is unchanged" {
  before=$(hostname)
  run_in_container 'hostname' '.hostname="silo-box"'
  [ "$status" -eq 0 ]
  [ "$output" = silo-box ]
  [ "$(hostname)" = "$before" ]
}

@test "the container has a network namespace of its own with only lo" {
  run_in_container 'ls /sys/class/net; readlink /proc/self/ns/net'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = lo ]
  [ "${#lines[@]}" -eq 2 ]
  [ "${lines[1]}" != "$(th_exec readlink /proc/self/ns/net)" ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/net)" ]
}

@test "a container joins an existing network namespace given by path" {
  ns="silo-th-$$-${BATS_TEST_NUMBER}-join"
  th_netns_add "$ns"
  # This kernel may lack the dummy module; a veth pair is as good a marker.
  ip -n "$ns" link add silo-dummy0 type dummy 2>/dev/null ||
    ip -n "$ns" link add silo-dummy0 type veth peer name silo-dummy1
  run_in_container 'ls /sys/class/net; readlink /proc/self/ns/net' \
    ".linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$ns\" else . end)"
  [ "$status" -eq 0 ]
  [[ " ${lines[*]} " == *" silo-dummy0 "* ]]
  [ "${lines[-1]}" = "$(ip netns exec "$ns" readlink /proc/self/ns/net)" ]
}

@test "the ipc and uts namespaces differ from the host's" {
  run_in_container 'readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts'
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == ipc:* ]]
  [[ "${lines[1]}" == uts:* ]]
  [ "${lines[0]}" != "$(readlink /proc/self/ns/ipc)" ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/uts)" ]
}

@test "the mount and pid namespaces differ from the host's" {
  run_in_container 'readlink /proc/self/ns/mnt; readlink /proc/self/ns/pid'
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == mnt:* ]]
  [[ "${lines[1]}" == pid:* ]]
  [ "${lines[0]}" != "$(readlink /proc/self/ns/mnt)" ]
  [ "${lines[1]}" != "$(readlink /proc/self/ns/pid)" ]
}

@test "with a cgroup namespace /proc/self/cgroup shows root paths" {
  run_in_container 'cat /proc/self/cgroup; readlink /proc/self/ns/cgroup' \
    '.linux.namespaces += [{"type":"cgroup"}]'
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" != "$(readlink /proc/self/ns/cgroup)" ]
  n=0
  for line in "${lines[@]:0:${#lines[@]}-1}"; do
    [[ "$line" == *:/ ]] || { echo "not a root path: $line"; return 1; }
    n=$((n + 1))
  done
  [ "$n" -gt 0 ]
}

@test "a user namespace maps container root to the configured host ids" {
  # The seed rootfs is mode 0700 and owned by host root, so host uid 100000 (container
  # root) could not even enter it: run on a copy owned by the mapped root instead.
  r=$(th_rootfs_copy urootfs 100000:100000)
  run_in_container 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g' \
    ".root.path = \"$r\"" \
    '.linux.namespaces += [{"type":"user"}]' \
    '.linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]' \
    '.linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]'
  [ "$status" -eq 0 ]
  [ "$(echo "${lines[0]}" | awk '{print $1, $2, $3}')" = "0 100000 65536" ]
  [ "$(echo "${lines[1]}" | awk '{print $1, $2, $3}')" = "0 100000 65536" ]
  [ "${lines[2]}" = 0 ]
  [ "${lines[3]}" = 0 ]
}
