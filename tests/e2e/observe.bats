#!/usr/bin/env bats
# Observation endpoints through the real docker CLI: events, stats, top, export, diff,
# cp (both ways) and volume prune. One silod for the file (tests/lib/daemon.bash), inside
# a throwaway test host (a network namespace with only loopback) with its own data root,
# exec root and socket; teardown_file removes its containers and ends it by pid. Tests
# use container names of their own. Every container runs with --network none.

load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() {
  daemon_require
  require_docker
  require_curl
  require_shim
}

dk() { docker_cli "$@"; }

# A detached busybox container NAME running `sleep 300` with extra create flags.
run_sleeper() {
  local name=$1; shift
  dk run -d --network none --name "$name" "$@" busybox sleep 300
}

@test "docker events: --since/--until and --filter show create, start, die, destroy" {
  local since until
  since=$(date +%s)
  run dk create --network none --name ev busybox true
  [ "$status" -eq 0 ] || { echo "$output"; cat "$SILOD_LOG"; false; }
  dk start ev
  dk wait ev
  dk rm ev
  until=$(($(date +%s) + 1))
  run dk events --since "$since" --until "$until" --filter container=ev --format '{{.Type}} {{.Action}}'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"container create"* ]]
  [[ "$output" == *"container start"* ]]
  [[ "$output" == *"container die"* ]]
  [[ "$output" == *"container destroy"* ]]
  run dk events --since "$since" --until "$until" --filter event=start --format '{{.Action}}'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | sort -u)" = start ]
  run dk events --since "$since" --until "$until" --filter container=other --format '{{.Action}}'
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  run dk events --since "$since" --until "$until" --filter bogus=1
  [ "$status" -ne 0 ]
  [[ "$output" == *"invalid filter 'bogus'"* ]]
}

@test "exec_die is published when an exec ends (no inspect needed); rm forgets the exec" {
  run_sleeper exd
  local since eid until
  since=$(date +%s)
  eid=$(api -X POST -H 'Content-Type: application/json' -d '{"Cmd":["sh","-c","exit 3"]}' \
    /v1.41/containers/exd/exec | jq -r .Id)
  [ ${#eid} -eq 64 ] || { echo "exec create: $eid"; false; }
  api -X POST -H 'Content-Type: application/json' -d '{"Detach":true}' "/v1.41/exec/$eid/start"
  # The event comes from the watcher: nothing asks about the exec meanwhile.
  local found=""
  for _ in $(seq 50); do
    until=$(($(date +%s) + 1))
    found=$(dk events --since "$since" --until "$until" --filter event=exec_die \
      --format '{{.Actor.Attributes.execID}} {{.Actor.Attributes.exitCode}}')
    [ -n "$found" ] && break
    sleep 0.1
  done
  echo "events: $found"
  [ "$found" = "$eid 3" ]
  dk rm -f exd
  # Forgotten with its container (within the watcher's tick).
  local code=""
  for _ in $(seq 30); do
    code=$(api -o /dev/null -w '%{http_code}' "/v1.41/exec/$eid/json")
    [ "$code" = 404 ] && break
    sleep 0.1
  done
  [ "$code" = 404 ]
}

@test "docker stats --no-stream shows MEM USAGE / LIMIT with the --memory limit" {
  run run_sleeper st --memory 64m
  [ "$status" -eq 0 ] || { echo "$output"; cat "$SILOD_LOG"; false; }
  run dk stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' st
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "st "*" / 64MiB "* ]]
  run api "/v1.41/containers/st/stats?stream=false&one-shot=true"
  [ "$(echo "$output" | jq -r .name)" = /st ]
  [ "$(echo "$output" | jq -r .memory_stats.limit)" = 67108864 ]
  [ "$(echo "$output" | jq -r '.cpu_stats.cpu_usage.total_usage > 0')" = true ]
}

@test "docker stats of a stopped container is the zeroed object" {
  dk create --network none --name stopped busybox true
  run api "/v1.41/containers/stopped/stats?stream=false"
  echo "$output"
  [ "$(echo "$output" | jq -r .read)" = 0001-01-01T00:00:00Z ]
  [ "$(echo "$output" | jq -r .name)" = /stopped ]
}

@test "docker top shows the container's process; 409 when it is not running" {
  run run_sleeper tp
  [ "$status" -eq 0 ] || { echo "$output"; cat "$SILOD_LOG"; false; }
  run dk top tp
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == UID*PID*PPID*CMD* ]]
  [[ "$output" == *"sleep 300"* ]]
  run dk top tp -o pid,comm
  [ "$status" -eq 0 ]
  [[ "$output" == *sleep* ]]
  dk create --network none --name idle busybox true
  run dk top idle
  [ "$status" -ne 0 ]
  [[ "$output" == *"is not running"* ]]
}

@test "docker export writes a tar with /bin/busybox" {
  dk create --network none --name ex busybox true
  dk export -o "$TH_DIR/ex.tar" ex
  run tar -tf "$TH_DIR/ex.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"bin/busybox"* ]]
}

@test "docker diff shows A, C and D" {
  # A file of the image other than busybox and sh to delete.
  local victim
  dk create --network none --name probe busybox true
  victim=$(dk export probe | tar -t | grep -E '^bin/[a-z]+$' | grep -vxE 'bin/(busybox|sh|rm|chmod)' | head -n1)
  [ -n "$victim" ] || skip "skipped, because the busybox image has no spare applet link in /bin"
  dk create --network none --name df busybox sh -c "echo hi >/added && chmod 0700 /bin/busybox && rm /$victim"
  dk start df
  dk wait df
  run dk diff df
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"A /added"* ]]
  [[ "$output" == *"C /bin/busybox"* ]]
  [[ "$output" == *"D /$victim"* ]]
}

@test "docker cp copies into and out of a container, files and directories" {
  run run_sleeper cp1
  [ "$status" -eq 0 ] || { echo "$output"; cat "$SILOD_LOG"; false; }
  mkdir -p "$TH_DIR/src/sub"
  echo hello >"$TH_DIR/src/file.txt"
  echo deep >"$TH_DIR/src/sub/deep.txt"
  run dk cp "$TH_DIR/src/file.txt" cp1:/file.txt
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  run dk cp "$TH_DIR/src" cp1:/srcdir
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  mkdir -p "$TH_DIR/out"
  dk cp cp1:/file.txt "$TH_DIR/out/file.txt"
  [ "$(cat "$TH_DIR/out/file.txt")" = hello ]
  dk cp cp1:/srcdir "$TH_DIR/out/dir"
  [ "$(cat "$TH_DIR/out/dir/sub/deep.txt")" = deep ]
  run dk cp cp1:/nope "$TH_DIR/out/x"
  [ "$status" -ne 0 ]
  [[ "$output" == *"Could not find the file /nope in container cp1"* ]]
  # The copied file is in the container's layer.
  run dk diff cp1
  [[ "$output" == *"A /file.txt"* ]]
}

@test "docker container prune --filter until= takes a timestamp or a duration" {
  dk create --network none --label prunetest=1 --name pr-old busybox true
  sleep 2
  local t
  t=$(date -u +%Y-%m-%dT%H:%M:%S)
  sleep 1
  dk create --network none --label prunetest=1 --name pr-new busybox true
  run dk container prune -f --filter label=prunetest=1 --filter "until=$t"
  echo "$output"
  [ "$status" -eq 0 ]
  run dk ps -a --filter label=prunetest=1 --format '{{.Names}}'
  [ "$output" = pr-new ]
  run dk container prune -f --filter label=prunetest=1 --filter until=1h
  run dk ps -a --filter label=prunetest=1 --format '{{.Names}}'
  [ "$output" = pr-new ]  # not created an hour ago
  run dk container prune -f --filter label=prunetest=1 --filter until=yesterday
  [ "$status" -ne 0 ]
  [[ "$output" == *'failed to parse value as time or duration: \"yesterday\"'* || "$output" == *"failed to parse value as time or duration"* ]]
  dk rm pr-new
}

@test "docker volume prune -f removes unused volumes only" {
  dk volume create keepme
  dk volume create v1
  dk volume create v2
  dk create --network none --name user -v keepme:/data busybox true
  run dk volume prune -f
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *v1* ]]
  [[ "$output" == *v2* ]]
  run dk volume ls -q
  [ "$output" = keepme ]
}
