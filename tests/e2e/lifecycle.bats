#!/usr/bin/env bats
# The container lifecycle through the docker CLI against one silod (see lifecycle_lib.bash):
# run, ps, stop, start, restart, kill, pause, rename, wait, rm, --rm, restart policies,
# --init, named volumes and resource limits.

load lifecycle_lib

setup_file() {
  lc_require
  lc_setup_host
  lc_start_silod
}

teardown_file() { lc_teardown_host; }

setup() { lc_require; }

@test "lifecycle: run -d, ps, inspect fields, stop, start, restart" {
  run dk run -d --network none --name web busybox sleep 1000
  echo "$output"
  [ "$status" -eq 0 ]
  id=$output
  [ ${#id} -eq 64 ]
  run dk ps --format '{{.Names}} {{.Status}}'
  echo "$output"
  [[ "$output" == "web Up"* ]]
  [ "$(dk_inspect web '{{.State.Status}} {{.State.Running}} {{.Name}} {{.Config.Image}}')" = "running true /web busybox" ]
  pid=$(dk_inspect web '{{.State.Pid}}')
  [ "$pid" -gt 0 ]
  kill -0 "$pid"
  run dk stop -t 2 web
  [ "$status" -eq 0 ]
  [ "$(dk_inspect web '{{.State.Status}}')" = exited ]
  dk start web
  [ "$(dk_inspect web '{{.State.Status}}')" = running ]
  old=$(dk_inspect web '{{.State.Pid}}')
  dk restart -t 1 web
  [ "$(dk_inspect web '{{.State.Status}}')" = running ]
  [ "$(dk_inspect web '{{.State.Pid}}')" != "$old" ]
  dk rm -f web
}

@test "lifecycle: kill -s, wait with exit code, pause, unpause, rename, rm, rm -f" {
  dk run -d --network none --name kk busybox sh -c 'trap "exit 7" USR1; while true; do sleep 0.1; done'
  sleep 0.5
  dk kill -s USR1 kk
  run dk wait kk
  echo "$output"
  [ "$output" = 7 ]
  [ "$(dk_inspect kk '{{.State.ExitCode}}')" = 7 ]
  run dk kill kk
  [ "$status" -ne 0 ]
  [[ "$output" == *"is not running"* ]]
  dk run -d --network none --name pp busybox sleep 1000
  dk pause pp
  [ "$(dk_inspect pp '{{.State.Status}} {{.State.Paused}}')" = "paused true" ]
  dk unpause pp
  [ "$(dk_inspect pp '{{.State.Status}}')" = running ]
  dk rename pp qq
  [ "$(dk_inspect qq '{{.Name}}')" = /qq ]
  run dk rm qq
  [ "$status" -ne 0 ]
  [[ "$output" == *"cannot remove a running container"* ]]
  dk rm -f qq
  dk rm kk
  run dk ps -aq
  [ -z "$output" ]
  [ -z "$(grep " $ROOT/containers/" /proc/self/mountinfo)" ]
}

@test "lifecycle: stop of a paused container delivers the stop signal, as dockerd" {
  dk run -d --network none --name ps1 busybox sh -c 'trap "exit 5" TERM; while true; do sleep 0.1; done'
  sleep 0.3
  dk pause ps1
  run dk stop -t 20 ps1
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  # The process handled SIGTERM (exit 5): it was thawed, not SIGKILLed (137).
  [ "$(dk_inspect ps1 '{{.State.Status}} {{.State.ExitCode}}')" = "exited 5" ]
  dk run -d --network none --name ps2 busybox sleep 1000
  dk pause ps2
  local t0=$SECONDS
  dk kill ps2
  ((SECONDS - t0 < 5))  # thawed, so SIGKILL lands at once (frozen, kill would wait 10 s)
  run dk wait ps2
  [ "$output" = 137 ]
  dk rm ps1 ps2
}

@test "lifecycle: run --rm leaves nothing" {
  id=$(dk create --rm --network none busybox sh -c 'exit 3')
  dk start "$id"
  for _ in $(seq 50); do dk inspect "$id" >/dev/null 2>&1 || break; sleep 0.1; done
  run dk inspect "$id"
  [ "$status" -ne 0 ]
  [ ! -e "$ROOT/containers/$id" ]
  [ -z "$(grep "$id" /proc/self/mountinfo)" ]
  [ -z "$(lc_shims)" ]
}

@test "lifecycle: restart=on-failure:2 restarts exactly twice" {
  dk run -d --network none --name of --restart on-failure:2 busybox sh -c 'exit 1'
  for _ in $(seq 100); do
    [ "$(dk_inspect of '{{.State.Status}}')" = exited ] && [ "$(dk_inspect of '{{.RestartCount}}')" = 2 ] && break
    sleep 0.1
  done
  sleep 1
  [ "$(dk_inspect of '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}')" = "2 exited 1" ]
  dk rm -f of
}

@test "lifecycle: restart=always restarts, docker stop ends it" {
  dk run -d --network none --name al --restart always busybox sh -c 'sleep 0.2; exit 0'
  for _ in $(seq 100); do
    [ "$(dk_inspect al '{{.RestartCount}}')" -ge 2 ] && break
    sleep 0.1
  done
  [ "$(dk_inspect al '{{.RestartCount}}')" -ge 2 ]
  dk stop -t 1 al
  [ "$(dk_inspect al '{{.State.Status}}')" = exited ]
  n=$(dk_inspect al '{{.RestartCount}}')
  sleep 1
  [ "$(dk_inspect al '{{.RestartCount}} {{.State.Status}}')" = "$n exited" ]
  dk rm -f al
}

@test "lifecycle: --init makes pid 1 docker-init" {
  [ -x /usr/bin/tini-static ] || skip "skipped, because tini-static is not installed (apt install tini)"
  dk run -d --network none --init --name in busybox sleep 1000
  pid=$(dk_inspect in '{{.State.Pid}}')
  run cat "/proc/$pid/cmdline"
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" == "/sbin/docker-init -- sleep 1000"* ]]
  dk rm -f in
}

@test "lifecycle: -v name:/data persists across containers" {
  dk run -d --network none --name v1 -v data:/data busybox sh -c 'echo hello >/data/f'
  [ "$(dk wait v1)" = 0 ]
  dk run -d --network none --name v2 -v data:/data busybox grep -q hello /data/f
  [ "$(dk wait v2)" = 0 ]
  dk rm v1 v2
  dk volume rm data
}

@test "lifecycle: memory, cpus and pids-limit reach inspect and the cgroup" {
  dk run -d --network none --name lim -m 64m --cpus 0.5 --pids-limit 50 busybox sleep 1000
  [ "$(dk_inspect lim '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}')" = "67108864 500000000 50" ]
  id=$(dk_inspect lim '{{.Id}}')
  if [ -d "/sys/fs/cgroup/memory/$CG_PARENT/$id" ]; then
    [ "$(cat "/sys/fs/cgroup/memory/$CG_PARENT/$id/memory.limit_in_bytes")" = 67108864 ]
    [ "$(cat /sys/fs/cgroup/pids/"$CG_PARENT"/"$id"/pids.max)" = 50 ]
    [ "$(cat /sys/fs/cgroup/cpu/"$CG_PARENT"/"$id"/cpu.cfs_quota_us)" = 50000 ]
  fi
  dk rm -f lim
}
