#!/usr/bin/env bats
# Resource limits through cgroups (v1 here): the OCI runtime must write what the spec
# asks, enforce it (OOM kill, fork limit, CPU set), honour an explicit cgroupsPath and
# remove every cgroup directory it made on delete. Checked from the host side: inside
# the container /sys/fs/cgroup is not guaranteed.
# Runs against any runc-compatible runtime: SILO_RUNTIME=/usr/sbin/runc bats cgroups.bats

load ../../lib/testhost

MIB8=8388608
# Allocates 32 MiB inside the shell itself, well past an 8 MiB limit.
HOG='x=$(head -c 33554432 /dev/zero | tr "\0" a); echo survived'

setup() {
  testhost_setup
  CG_EXPLICIT=()
}

teardown() {
  testhost_teardown
  # An explicit cgroupsPath a failed test left behind: only our own unique names, and
  # rmdir removes only empty cgroups.
  local p
  for p in "${CG_EXPLICIT[@]}"; do
    [[ "$p" == /silo-test-* ]] || continue
    find /sys/fs/cgroup/*"$p" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  return 0
}

# th_bundle takes one jq filter per argument; build filters with values inlined.
jqarg() { jq -cn --arg v "$1" '$v'; }

# Creates and starts container ID from bundle B; prints nothing, fails loudly.
create_start() {
  local b=$1 id=$2
  th_track "$id"
  th_rt create --bundle "$b" "$id" || { echo "create $id failed" >&2; return 1; }
  th_rt start "$id" || { echo "start $id failed" >&2; return 1; }
}

# Kills ID, waits for stopped, deletes it.
kill_delete() {
  th_rt kill "$1" KILL || true
  th_wait_status "$1" stopped 10
  th_rt delete "$1"
}

@test "memory: a process past an 8 MiB limit is OOM-killed (create/start -> stopped)" {
  local cg="/silo-test-$RANDOM$RANDOM" id b
  CG_EXPLICIT+=("$cg")
  b=$(th_bundle oom \
    ".linux.resources.memory={\"limit\":$MIB8,\"swap\":$MIB8}" \
    ".process.args=[\"sh\",\"-c\",$(jqarg "$HOG")]" \
    ".linux.cgroupsPath=\"$cg\"")
  id=$(th_new_id oom)
  create_start "$b" "$id"
  th_wait_status "$id" stopped 20
  # The kernel counted the kill in the container's memory cgroup (still there until delete).
  run grep -E '^oom_kill [1-9]' "/sys/fs/cgroup/memory$cg/memory.oom_control"
  cat "/sys/fs/cgroup/memory$cg/memory.oom_control" 2>&1 || true
  [ "$status" -eq 0 ]
  if th_is_silo; then
    run th_rt state "$id"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .oomKilled)" = true ]
  fi
  th_rt delete "$id"
  [ ! -d "/sys/fs/cgroup/memory$cg" ]
}

@test "memory: run in the foreground of a process past 8 MiB exits 137" {
  local id b
  b=$(th_bundle oomfg \
    ".linux.resources.memory={\"limit\":$MIB8,\"swap\":$MIB8}" \
    ".process.args=[\"sh\",\"-c\",$(jqarg "$HOG")]")
  id=$(th_new_id oomfg)
  th_track "$id"
  run th_rt run --bundle "$b" "$id"
  echo "status=$status output=$output"
  [ "$status" -eq 137 ]
  [[ "$output" != *survived* ]]
}

@test "memory: a process under the 8 MiB limit is not killed" {
  local id b
  b=$(th_bundle small \
    ".linux.resources.memory={\"limit\":$MIB8,\"swap\":$MIB8}" \
    '.process.args=["sh","-c","x=$(head -c 1048576 /dev/zero | tr \"\\0\" a); echo survived"]')
  id=$(th_new_id small)
  th_track "$id"
  run th_rt run --bundle "$b" "$id"
  echo "status=$status output=$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *survived* ]]
}

@test "limits: memory, cpu quota/period/shares, pids and cpuset are what the host cgroups say" {
  local id b pid d
  b=$(th_bundle lim \
    ".linux.resources.memory={\"limit\":$MIB8,\"swap\":$MIB8}" \
    '.linux.resources.cpu={"quota":50000,"period":100000,"shares":512,"cpus":"0","mems":"0"}' \
    '.linux.resources.pids={"limit":64}' \
    '.process.args=["sleep","30"]')
  id=$(th_new_id lim)
  create_start "$b" "$id"
  pid=$(th_state "$id" .pid)
  echo "pid=$pid"
  [ "$pid" -gt 0 ]
  d=$(th_cgroup_dir "$pid" memory); echo "memory: $d"
  [ "$(cat "$d/memory.limit_in_bytes")" = "$MIB8" ]
  [ "$(cat "$d/memory.memsw.limit_in_bytes")" = "$MIB8" ]
  d=$(th_cgroup_dir "$pid" cpu); echo "cpu: $d"
  [ "$(cat "$d/cpu.cfs_quota_us")" = 50000 ]
  [ "$(cat "$d/cpu.cfs_period_us")" = 100000 ]
  [ "$(cat "$d/cpu.shares")" = 512 ]
  d=$(th_cgroup_dir "$pid" pids); echo "pids: $d"
  [ "$(cat "$d/pids.max")" = 64 ]
  d=$(th_cgroup_dir "$pid" cpuset); echo "cpuset: $d"
  [ "$(cat "$d/cpuset.cpus")" = 0 ]
  [ "$(cat "$d/cpuset.mems")" = 0 ]
  # The process itself is confined to CPU 0.
  grep -E '^Cpus_allowed_list:\s+0$' "/proc/$pid/status"
  kill_delete "$id"
}

@test "pids: a limit of 64 stops a fork loop of 100 (bounded)" {
  local id b last
  b=$(th_bundle pids \
    '.linux.resources.pids={"limit":64}' \
    '.process.args=["sh","-c","for i in $(seq 100); do sleep 3 & echo started $i; done; wait; echo all-forked"]')
  id=$(th_new_id pids)
  th_track "$id"
  run th_rt run --bundle "$b" "$id"
  echo "status=$status"
  echo "$output" | tail -n 5
  [[ "$output" == *"can't fork"* ]]
  [[ "$output" != *all-forked* ]]
  last=$(echo "$output" | grep -oE '^started [0-9]+' | tail -n 1 | cut -d' ' -f2)
  echo "last started: $last"
  # pid 1 (the shell) counts against the 64: at most 63 sleeps.
  [ "$last" -le 63 ]
  [ "$last" -ge 32 ]
}

@test "cgroupsPath given explicitly is used, and removed after delete" {
  local cg="/silo-test-$RANDOM$RANDOM" id b pid ctrl
  CG_EXPLICIT+=("$cg")
  b=$(th_bundle explicit \
    ".linux.cgroupsPath=\"$cg\"" \
    ".linux.resources.memory={\"limit\":$MIB8,\"swap\":$MIB8}" \
    '.linux.resources.pids={"limit":64}' \
    '.process.args=["sleep","30"]')
  id=$(th_new_id explicit)
  create_start "$b" "$id"
  pid=$(th_state "$id" .pid)
  for ctrl in memory pids cpu cpuset; do
    echo "$ctrl: $(th_cgroup_dir "$pid" "$ctrl")"
    [ "$(th_cgroup_dir "$pid" "$ctrl")" = "/sys/fs/cgroup/$ctrl$cg" ]
    grep -qx "$pid" "/sys/fs/cgroup/$ctrl$cg/cgroup.procs"
  done
  [ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = "$MIB8" ]
  kill_delete "$id"
  local left
  left=$(ls -d /sys/fs/cgroup/*"$cg" 2>/dev/null || true)
  echo "left after delete: $left"
  [ -z "$left" ]
}

@test "processors: cpus=0 gives nproc 1 inside" {
  local id b
  b=$(th_bundle cpu0 '.linux.resources.cpu={"cpus":"0"}' '.process.args=["nproc"]')
  id=$(th_new_id cpu0)
  th_track "$id"
  run th_rt run --bundle "$b" "$id"
  echo "status=$status output=$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1 ]
}

@test "processors: cpus=7 (absent on this host) fails at create, before any process starts" {
  local n id b out cg="/silo-test-$RANDOM$RANDOM"
  CG_EXPLICIT+=("$cg")
  n=$(nproc --all)
  [ "$n" -le 7 ] || skip "skipped, because this host has CPU 7 (nproc --all = $n)"
  out="$TH_DIR/out"
  mkdir -p "$out"
  b=$(th_bundle cpu7 '.linux.resources.cpu={"cpus":"7"}' ".linux.cgroupsPath=\"$cg\"" \
    ".mounts+=[{\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$out\",\"options\":[\"rbind\",\"rw\"]}]" \
    '.process.args=["sh","-c","touch /out/started"]')
  id=$(th_new_id cpu7)
  th_track "$id"
  run th_rt create --bundle "$b" "$id"
  echo "status=$status output=$output"
  [ "$status" -ne 0 ]
  if th_is_silo; then
    [[ "$output" == *"CPU 7"* ]]
  fi
  # No container was left behind, and `run` does not start the process either.
  run th_rt state "$id"
  [ "$status" -ne 0 ]
  run th_rt run --bundle "$b" "$id"
  echo "run: status=$status output=$output"
  [ "$status" -ne 0 ]
  [ ! -e "$out/started" ]
  # Nor a cgroup directory.
  local left
  left=$(ls -d /sys/fs/cgroup/*"$cg" 2>/dev/null || true)
  echo "left after failed create: $left"
  [ -z "$left" ]
}

@test "reliability: 50 create/start/kill/delete cycles at 8 MiB, zero failures" {
  local b i id fails=0 t0 t1
  b=$(th_bundle rel \
    ".linux.resources.memory={\"limit\":$MIB8,\"swap\":$MIB8}" \
    '.process.args=["sleep","60"]')
  t0=$(date +%s)
  for ((i = 1; i <= 50; i++)); do
    id=$(th_new_id rel$i)
    th_track "$id"
    if ! th_rt create --bundle "$b" "$id"; then fails=$((fails + 1)); echo "cycle $i: create failed"; continue; fi
    th_rt start "$id" || { fails=$((fails + 1)); echo "cycle $i: start failed"; }
    th_rt kill "$id" KILL || { fails=$((fails + 1)); echo "cycle $i: kill failed"; }
    th_wait_status "$id" stopped 10 || { fails=$((fails + 1)); echo "cycle $i: not stopped"; }
    th_rt delete "$id" || { fails=$((fails + 1)); echo "cycle $i: delete failed"; }
    # Bounded in time, whatever the runtime does.
    (($(date +%s) - t0 < 120)) || { echo "stopping after 120 s at cycle $i"; fails=$((fails + 50 - i)); break; }
  done
  t1=$(date +%s)
  echo "50 cycles, $fails failures, $((t1 - t0)) s"
  [ "$fails" -eq 0 ]
}

@test "delete removes the container's cgroup directory from every hierarchy" {
  local id b pid dirs d left=""
  b=$(th_bundle gone \
    ".linux.resources.memory={\"limit\":$MIB8,\"swap\":$MIB8}" \
    '.linux.resources.pids={"limit":64}' \
    '.linux.resources.cpu={"shares":512}' \
    '.process.args=["sleep","30"]')
  id=$(th_new_id gone)
  create_start "$b" "$id"
  pid=$(th_state "$id" .pid)
  dirs=$(th_cgroup_dirs "$pid")
  echo "container cgroups:"; echo "$dirs"
  [ -n "$dirs" ]
  # At least memory, pids and cpu have a directory of the container's own.
  echo "$dirs" | grep -q '/memory/'
  echo "$dirs" | grep -q '/pids/'
  for d in $dirs; do [ -d "$d" ]; done
  kill_delete "$id"
  for d in $dirs; do [ -d "$d" ] && left="$left $d"; done
  echo "left after delete:$left"
  [ -z "$left" ]
}
