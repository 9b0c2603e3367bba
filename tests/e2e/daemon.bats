#!/usr/bin/env bats
# silod, first cut: the daemon's start-up, shutdown and pid file, and the system, list
# and volume endpoints, driven by curl, the real docker CLI and the Python docker SDK.
# Each test starts its own silod inside a throwaway test host (a network namespace with
# only loopback), on a socket, data root and exec root under the test's scratch dir, and
# teardown ends exactly that daemon, by pid.

load ../lib/daemon

setup() { daemon_setup; }
teardown() { daemon_teardown; }

@test "silod: /_ping answers OK with the Api-Version header and logs where it listens" {
  require_curl
  start_silod
  run api -i /_ping
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Api-Version: 1.41"* ]]
  [[ "$output" == *OK ]]
  grep -q "API listen on $SOCK" "$TH_DIR/silod.log"
}

@test "silod: a too-new API version gets 400 and dockerd's message" {
  require_curl
  start_silod
  run api -w '\n%{http_code}' /v1.99/version
  echo "$output"
  [ "${lines[-1]}" = 400 ]
  [[ "${lines[0]}" == *"client version 1.99 is too new. Maximum supported API version is 1.41"* ]]
}

@test "silod: /info, /containers/json and /system/df have Docker's shape" {
  require_curl
  start_silod
  run api /info
  echo "$output"
  [ "$(jq -r .DockerRootDir <<<"$output")" = "$ROOT" ]
  [ "$(jq -r '.Driver, .OSType, .CgroupDriver, .LoggingDriver' <<<"$output" | tr '\n' ' ')" = "overlay2 linux cgroupfs json-file " ]
  [ "$(jq -r '.Containers, .ContainersRunning, .Images' <<<"$output" | tr '\n' ' ')" = "0 0 0 " ]
  [[ "$(jq -r .CgroupVersion <<<"$output")" =~ ^[12]$ ]]
  [ "$(jq -r '.Runtimes["silo-runc"].path' <<<"$output")" = "$SILO_BUILD/silo-runc" ]
  [ "$(jq -r '.SecurityOptions[0]' <<<"$output")" = "name=seccomp,profile=default" ]
  [ "$(jq '.NCPU > 0 and .MemTotal > 0' <<<"$output")" = true ]
  # The ID is stable across restarts (kept in the data root).
  [ -n "$(jq -r .ID <<<"$output")" ] && [ "$(jq -r .ID <<<"$output")" = "$(cat "$ROOT/engine-id")" ]
  [ "$(api '/containers/json?all=1')" = "[]" ]
  [ "$(api '/containers/json?filters=%7B%22status%22%3A%5B%22exited%22%5D%7D')" = "[]" ]
  run api -w '\n%{http_code}' '/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D'
  echo "$output"
  [ "${lines[-1]}" = 400 ]
  [[ "${lines[0]}" == *"invalid filter 'bogus'"* ]]
  run api /system/df
  echo "$output"
  [ "$(jq -c '[.LayersSize, .Images, .Containers, .Volumes, .BuildCache]' <<<"$output")" = '[0,[],[],[],[]]' ]
}

@test "silod: volumes over the API: create makes _data, get, list, delete removes it" {
  require_curl
  start_silod
  run api -X POST -H 'Content-Type: application/json' -d '{"Name":"v1","Labels":{"a":"b"}}' -w '\n%{http_code}' /volumes/create
  echo "$output"
  [ "${lines[-1]}" = 201 ]
  [ "$(jq -r .Mountpoint <<<"${lines[0]}")" = "$ROOT/volumes/v1/_data" ]
  [ -d "$ROOT/volumes/v1/_data" ]
  [ "$(api /volumes/v1 | jq -r '.Labels.a, .Driver, .Scope' | tr '\n' ' ')" = "b local local " ]
  [ "$(api /volumes | jq -c '[.Volumes[].Name], .Warnings' | tr '\n' ' ')" = '["v1"] null ' ]
  [ "$(api '/volumes?filters=%7B%22label%22%3A%5B%22a%3Dc%22%5D%7D' | jq -c '.Volumes')" = '[]' ]
  run api -X DELETE -w '%{http_code}' /volumes/v1
  [ "$output" = 204 ]
  [ ! -e "$ROOT/volumes/v1" ]
  run api -X POST -H 'Content-Type: application/json' -d '{"Name":"../x"}' -w '\n%{http_code}' /volumes/create
  echo "$output"
  [ "${lines[-1]}" = 400 ]
  [ ! -e "$ROOT/x" ]
}

@test "docker CLI: version shows Server API 1.41, info shows the root dir" {
  require_docker
  start_silod
  run docker_cli version
  echo "$output"
  [ "$status" -eq 0 ]
  # The Server section's "API version" line (the client's one says "downgraded from").
  sed -n '/^Server/,$p' <<<"$output" | grep -Eq '^ +API version: +1\.41'
  run docker_cli info
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Docker Root Dir: $ROOT"* ]]
}

@test "docker CLI: ps and ps -a print just the header" {
  require_docker
  start_silod
  run docker_cli ps
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ] && [[ "${lines[0]}" == "CONTAINER ID"* ]]
  run docker_cli ps -a
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ] && [[ "${lines[0]}" == "CONTAINER ID"* ]]
}

@test "docker CLI: volume create, ls, inspect, rm; rm of a missing volume fails" {
  require_docker
  start_silod
  run docker_cli volume create v1
  echo "$output"
  [ "$status" -eq 0 ] && [ "$output" = v1 ]
  run docker_cli volume ls
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"local "*"v1"* ]]
  run docker_cli volume inspect v1
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].Mountpoint' <<<"$output")" = "$ROOT/volumes/v1/_data" ]
  run docker_cli volume rm v1
  [ "$status" -eq 0 ] && [ "$output" = v1 ]
  run docker_cli volume rm nope
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"no such volume"* ]]
}

@test "silod: a second daemon on the same pid file refuses to start, naming the pid" {
  start_silod
  run th_in_host "$SILOD" --data-root "$TH_DIR/root2" --exec-root "$RUN" \
    -H "unix://$TH_DIR/other.sock" --config-file "$CONF"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"pid $SILOD_PID"* ]]
  [[ "$output" == *"$RUN/silod.pid"* ]]
  # The first daemon is untouched.
  silod_ping_ok
  [ "$(cat "$RUN/silod.pid")" = "$SILOD_PID" ]
}

@test "silod: SIGTERM makes it exit 0 and remove its socket and pid file" {
  start_silod
  [ -S "$SOCK" ] && [ -f "$RUN/silod.pid" ]
  kill -TERM "$SILOD_PID"
  local rc=0
  wait "$SILOD_PID" || rc=$?
  SILOD_PID=
  cat "$TH_DIR/silod.log"
  [ "$rc" -eq 0 ]
  [ ! -e "$SOCK" ]
  [ ! -e "$RUN/silod.pid" ]
}

@test "silod: a bad daemon.json key is an error naming the key and the file" {
  echo '{"data-root": "/x", "no-such-key": true}' >"$CONF"
  run th_in_host "$SILOD" --exec-root "$RUN" -H "unix://$SOCK" --config-file "$CONF"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"no-such-key"* ]]
  [[ "$output" == *"$CONF"* ]]
  [ ! -e "$SOCK" ]
}

@test "silod: an explicit --config-file that does not exist is an error" {
  run th_in_host "$SILOD" --data-root "$ROOT" --exec-root "$RUN" -H "unix://$SOCK" \
    --config-file "$TH_DIR/missing.json"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"$TH_DIR/missing.json"* ]]
}

@test "python docker SDK: version() works" {
  python3 -c 'import docker' 2>/dev/null || skip "skipped, because the python docker SDK is not installed"
  start_silod
  run th_in_host python3 -c "import docker, sys; v = docker.DockerClient(base_url=sys.argv[1]).version(); print(v['ApiVersion'])" "unix://$SOCK"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = 1.41 ]
}

@test "silod: a data root without busybox:latest gets it seeded again at the next start" {
  require_curl
  start_silod
  run api -X DELETE /v1.41/images/busybox
  echo "$output"
  [[ "$output" == *'"Deleted"'* ]]
  [ "$(api -o /dev/null -w '%{http_code}' /v1.41/images/busybox/json)" = 404 ]
  stop_silod
  start_silod
  [ "$(api -o /dev/null -w '%{http_code}' /v1.41/images/busybox/json)" = 200 ]
  grep -q "seeded docker.io/library/busybox:latest" "$SILOD_LOG"
}
