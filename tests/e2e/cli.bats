#!/usr/bin/env bats
# silo, the CLI, against a test silod: every command docker users reach for, with docker's
# output shapes and exit codes. One silod for the file (tests/lib/daemon.bash) in a
# throwaway test host; every container runs with --network none and is removed by the
# test (and by the daemon teardown, also when a test fails).
#
# Tests whose endpoints silod does not serve yet skip with the endpoint named.

load ../lib/daemon
bats_require_minimum_version 1.5.0

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }

setup() {
  daemon_require
  require_silo_cli
  require_curl
  N="cli$BATS_TEST_NUMBER"
}

teardown() {
  silo_cli rm -f "$N" "$N-b" >/dev/null 2>&1 || true
}

# Skips unless silod routes METHOD PATH: an unrouted path answers 404 "page not found".
require_route() {
  local out
  # --max-time: a served stream (GET /events) would not end by itself.
  out=$(TH_TIMEOUT=10 api --max-time 2 -X "$1" "$2" 2>/dev/null) || true
  if [[ "$out" == *'"page not found"'* ]]; then
    skip "skipped, because silod does not serve $1 $2 yet"
  fi
  return 0
}

# The container's logs (stdout and stderr) contain TEXT.
logs_show() { silo_cli logs "$1" 2>&1 | grep -q "$2"; }

require_containers() {
  require_shim
  require_route POST /containers/create
  require_route POST /containers/x/start
}


@test "cli: version and info show the daemon" {
  run silo_cli version
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"API version:       1.41"* ]]
  [[ "$output" == *"Server:"* ]]
  run silo_cli info --format '{{.OSType}}'
  [ "$status" -eq 0 ]
  [ "$output" = linux ]
}

@test "cli: flag errors exit 125 with docker's message; a missing daemon is named" {
  run silo_cli run --bogus busybox true
  [ "$status" -eq 125 ]
  [[ "$output" == *"unknown flag: --bogus"* ]]
  run "$SILO_CLI" -H "unix://$TH_DIR/nope.sock" ps
  [ "$status" -eq 1 ]
  [[ "$output" == *"Cannot connect to the Silo daemon at unix://$TH_DIR/nope.sock"* ]]
  run "$SILO_CLI" -H tcp://127.0.0.1:2375 ps
  [ "$status" -eq 125 ]
  [[ "$output" == *"unix"* ]]
}

@test "cli: run in the foreground prints the output and exits with the container's code" {
  require_containers
  require_route POST /containers/x/attach
  require_route POST /containers/x/wait
  run silo_cli run --name "$N" --network none busybox sh -c 'echo out; echo err >&2; exit 3'
  echo "$output"
  [ "$status" -eq 3 ]
  [[ "$output" == *out* ]]
  [[ "$output" == *err* ]]
  run silo_cli run --rm --network none busybox echo hello
  [ "$status" -eq 0 ]
  [ "$output" = hello ]
  # docker's code for a command that is not there.
  run -127 silo_cli run --rm --network none busybox /no/such/binary
  echo "$output"
}

@test "cli: run -d, ps -a -q --filter --format, logs" {
  require_containers
  require_route GET /containers/x/logs
  run silo_cli run -d --name "$N" -l team=cli --network none busybox sh -c 'echo one; echo two >&2; sleep 1000'
  echo "$output"
  [ "$status" -eq 0 ]
  id=$output
  [ ${#id} -eq 64 ]
  run silo_cli ps
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "CONTAINER ID   IMAGE"*"NAMES" ]]
  [[ "$output" == *"${id:0:12}"*"$N"* ]]
  run silo_cli ps -q --no-trunc --filter "name=$N"
  [ "$output" = "$id" ]
  run silo_cli ps -a --format '{{.Names}} {{.State}} {{.Label "team"}}' --filter label=team=cli
  [ "$output" = "$N running cli" ]
  run silo_cli ps --format 'table {{.Names}}\t{{.Image}}' --filter "id=$id"
  [ "${lines[0]}" = "NAMES     IMAGE" ]
  [[ "${lines[1]}" == "$N"*busybox ]]
  run silo_cli ps --format '{{json .}}' --filter "id=$id"
  echo "$output" | jq -e --arg n "$N" '.Names == $n'
  th_wait_for 50 logs_show "$N" two
  run silo_cli logs "$N"
  [[ "$output" == *one* ]]
  run silo_cli logs --tail 1 "$N"
  [ "${#lines[@]}" -eq 1 ]
  run silo_cli logs -t "$N"
  [[ "${lines[0]}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
}

@test "cli: exec prints from inside the container and passes its exit code" {
  require_containers
  require_route POST /containers/x/exec
  silo_cli run -d --name "$N" --network none busybox sleep 1000 </dev/null
  run silo_cli exec -e GREETING=hi -w /tmp "$N" sh -c 'echo $GREETING $(pwd); exit 4'
  echo "$output"
  [ "$status" -eq 4 ]
  [ "$output" = "hi /tmp" ]
  run silo_cli exec "$N" /no/such/binary
  [ "$status" -ne 0 ]
}

@test "cli: stop, start, restart, kill, wait, rm" {
  require_containers
  require_route POST /containers/x/stop
  require_route POST /containers/x/wait
  silo_cli run -d --name "$N" --network none busybox sleep 1000 </dev/null
  run silo_cli stop -t 1 "$N"
  [ "$status" -eq 0 ]
  [ "$output" = "$N" ]
  run silo_cli wait "$N"
  [ "$output" = 137 ]
  run silo_cli start "$N"
  [ "$output" = "$N" ]
  run silo_cli inspect -f '{{.State.Running}}' "$N"
  [ "$output" = true ]
  run silo_cli restart -t 1 "$N"
  [ "$status" -eq 0 ]
  run silo_cli kill -s KILL "$N"
  [ "$output" = "$N" ]
  run silo_cli rm "$N"
  [ "$output" = "$N" ]
  run silo_cli rm "$N"
  [ "$status" -eq 1 ]
  [[ "$output" == "Error response from daemon: No such container: $N"* ]]
}

@test "cli: inspect -f templates, rename, pause and unpause" {
  require_containers
  require_route POST /containers/x/rename
  require_route POST /containers/x/pause
  silo_cli run -d --name "$N" -l k=v --network none busybox sleep 1000 </dev/null
  run silo_cli inspect -f '{{.State.Status}} {{.Config.Image}} {{index .Config.Labels "k"}} {{len .Id}}' "$N"
  echo "$output"
  [ "$output" = "running busybox v 64" ]
  run silo_cli inspect -f '{{json .Config.Cmd}}' "$N"
  [ "$output" = '["sleep","1000"]' ]
  run silo_cli inspect "$N"
  echo "$output" | jq -e '.[0].Config.Labels.k == "v"'
  run silo_cli inspect nosuch
  [ "$status" -eq 1 ]
  [[ "$output" == *"No such object: nosuch"* ]]
  run silo_cli rename "$N" "$N-b"
  [ "$status" -eq 0 ]
  run silo_cli pause "$N-b"
  [ "$output" = "$N-b" ]
  run silo_cli inspect -f '{{.State.Status}}' "$N-b"
  [ "$output" = paused ]
  run silo_cli unpause "$N-b"
  run silo_cli inspect -f '{{.State.Status}}' "$N-b"
  [ "$output" = running ]
}

@test "cli: top and stats --no-stream" {
  require_containers
  require_route GET /containers/x/top
  require_route GET /containers/x/stats
  silo_cli run -d --name "$N" --network none busybox sleep 1000 </dev/null
  run silo_cli top "$N"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *PID* ]]
  [[ "$output" == *"sleep 1000"* ]]
  run silo_cli stats --no-stream "$N"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "CONTAINER ID   NAME"*"PIDS" ]]
  [[ "${lines[1]}" == *"$N"* ]]
  run silo_cli stats --no-stream --format '{{.Name}} {{.PIDs}}' "$N"
  [ "$output" = "$N 1" ]
}

@test "cli: cp copies files and directories both ways" {
  require_containers
  require_route GET /containers/x/archive
  silo_cli run -d --name "$N" --network none busybox sleep 1000 </dev/null
  mkdir -p "$TH_DIR/cp/dir/sub"
  echo hello >"$TH_DIR/cp/dir/sub/f"
  echo top >"$TH_DIR/cp/file"
  run silo_cli cp "$TH_DIR/cp/dir" "$N:/tmp/"
  echo "$output"
  [ "$status" -eq 0 ]
  run silo_cli cp "$TH_DIR/cp/file" "$N:/tmp/renamed"
  [ "$status" -eq 0 ]
  run silo_cli exec "$N" cat /tmp/dir/sub/f /tmp/renamed
  [ "$output" = "hello
top" ]
  run silo_cli cp "$N:/tmp/dir" "$TH_DIR/cp/back"
  [ "$status" -eq 0 ]
  [ "$(cat "$TH_DIR/cp/back/sub/f")" = hello ]
  run silo_cli cp "$N:/etc/passwd" "$TH_DIR/cp/"
  grep -q '^root:' "$TH_DIR/cp/passwd"
  # The bind-mounted hostname file comes from the running container's own view.
  run silo_cli cp "$N:/etc/hostname" "$TH_DIR/cp/"
  [ "$status" -eq 0 ]
  [ "$(cat "$TH_DIR/cp/hostname")" = "$(silo_cli inspect -f '{{.Config.Hostname}}' "$N")" ]
  run silo_cli cp "$N:/no/such" "$TH_DIR/cp/x"
  [ "$status" -eq 1 ]
  # SRC/. copies the directory's contents, into an existing directory or a new one.
  silo_cli exec "$N" mkdir /tmp/into
  run silo_cli cp "$TH_DIR/cp/dir/." "$N:/tmp/into"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  run silo_cli exec "$N" cat /tmp/into/sub/f
  [ "$output" = hello ]
  run silo_cli cp "$TH_DIR/cp/dir/." "$N:/tmp/fresh"
  [ "$status" -eq 0 ]
  run silo_cli exec "$N" cat /tmp/fresh/sub/f
  [ "$output" = hello ]
  run silo_cli cp "$N:/tmp/dir/." "$TH_DIR/cp/flat"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [ "$(cat "$TH_DIR/cp/flat/sub/f")" = hello ]
  mkdir "$TH_DIR/cp/existing"
  run silo_cli cp "$N:/tmp/dir/." "$TH_DIR/cp/existing"
  [ "$status" -eq 0 ]
  [ "$(cat "$TH_DIR/cp/existing/sub/f")" = hello ]
  [ ! -e "$TH_DIR/cp/existing/dir" ]
}

@test "cli: volume create, ls, inspect, rm, prune" {
  require_route GET /volumes
  run silo_cli volume create "$N-v"
  [ "$output" = "$N-v" ]
  run silo_cli volume ls
  [[ "${lines[0]}" == "DRIVER    VOLUME NAME" ]]
  [[ "$output" == *"local     $N-v"* ]]
  run silo_cli volume ls -q
  [[ "$output" == *"$N-v"* ]]
  run silo_cli volume inspect -f '{{.Driver}} {{.Name}}' "$N-v"
  [ "$output" = "local $N-v" ]
  run silo_cli volume rm "$N-v"
  [ "$output" = "$N-v" ]
  run silo_cli volume rm "$N-v"
  [ "$status" -eq 1 ]
  require_route POST /volumes/prune
  silo_cli volume create "$N-p" >/dev/null
  run silo_cli volume prune -f -a
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Total reclaimed space:"* ]]
  run silo_cli volume ls -q
  [[ "$output" != *"$N-p"* ]]
}

@test "cli: system df" {
  require_route GET /system/df
  run silo_cli system df
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "TYPE"*"TOTAL"*"ACTIVE"*"SIZE"*"RECLAIMABLE" ]]
  [[ "$output" == *"Local Volumes"* ]]
}

@test "cli: events --since/--until replays a container's events" {
  require_containers
  require_route GET /events
  since=$(date +%s)
  silo_cli run -d --name "$N" --network none busybox sleep 1000 </dev/null
  silo_cli rm -f "$N" >/dev/null
  sleep 1
  until=$(date +%s)
  run silo_cli events --since "$since" --until "$until" --filter "container=$N" --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"container create $N"* ]]
  [[ "$output" == *"container start $N"* ]]
  [[ "$output" == *"container destroy $N"* ]]
  run silo_cli events --since 1m --until 0s --filter "container=$N"
  [[ "$output" == *" container start "* ]]
}
