#!/usr/bin/env bats
# Container I/O through silod with the real docker CLI: logs (tail, timestamps, since,
# follow, rotation), exec (output, exit code, stdin, detached), attach, and `docker run`
# streaming its output and returning the exit code. One silod for the file, in a
# throwaway test host (tests/lib/daemon.bash); each test removes its containers.

load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }

setup() {
  daemon_require
  command -v docker >/dev/null || skip "skipped, because the docker CLI is not installed"
  d image inspect busybox >/dev/null 2>&1 ||
    skip "skipped, because this silod has no busybox image (the engine's seed image)"
}

teardown() {
  local ids
  ids=$(d ps -aq 2>/dev/null)
  [ -z "$ids" ] || d rm -f $ids >/dev/null 2>&1 || true
}

# The docker CLI inside the test host, with a timeout so a hung stream fails the test.
d() { th_in_host timeout 60 docker -H "unix://$SOCK" "$@"; }

@test "io: docker logs shows the output, with --tail, --timestamps and --since" {
  d run -d --network none --name lg busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; sleep 600'
  th_wait_for 100 sh -c "docker -H unix://$SOCK logs lg 2>&1 | grep -q oops"
  run d logs lg
  echo "$output"
  [ "$status" = 0 ]
  [[ "$output" == *"line1"*"line5"* ]]
  [[ "$output" == *oops* ]]
  # stdout and stderr arrive on their own streams.
  [ "$(d logs lg 2>/dev/null | tail -n 1)" = line5 ]
  [ "$(d logs lg 2>&1 >/dev/null)" = oops ]
  run d logs --tail 2 lg
  echo "$output"
  [ "$(echo "$output" | wc -l)" = 2 ]
  [[ "$output" == *line5* ]]
  [[ "$output" != *line3* ]]
  run d logs --timestamps --tail 1 lg
  echo "$output"
  [[ "$output" =~ ^20[0-9-]+T[0-9:.]+Z\  ]]
  # Everything was written before the next whole second: --since then shows nothing.
  # (--since takes whole seconds here; output of this very second would still count.)
  since=$(($(date +%s) + 1))
  sleep 1.1
  run d logs --since "$since" lg
  [ -z "$output" ]
  # An unknown container is dockerd's 404.
  run d logs nosuch
  [ "$status" != 0 ]
  [[ "$output" == *"No such container: nosuch"* ]]
}

@test "io: docker logs -f follows and ends when the container exits" {
  d run -d --network none --name fl busybox sh -c 'echo first; sleep 2; echo second'
  run d logs -f fl
  echo "$output"
  [ "$status" = 0 ]
  [[ "$output" == *first*second* ]]
}

@test "io: docker exec prints the output and returns the exit code; -i feeds stdin; -d detaches" {
  d run -d --network none --name ex busybox sleep 600
  run d exec ex sh -c 'echo hello; echo err >&2; exit 3'
  echo "$output"
  [ "$status" = 3 ]
  [[ "$output" == *hello* ]]
  [[ "$output" == *err* ]]
  run th_in_host sh -c 'printf "abc\n" | timeout 60 docker -H "unix://$0" exec -i ex sh -c "read x; echo got-\$x"' "$SOCK"
  echo "$output"
  [ "$status" = 0 ]
  [ "$output" = got-abc ]
  run d exec -d ex sh -c 'echo done > /tmp/marker'
  [ "$status" = 0 ]
  th_wait_for 50 sh -c "timeout 10 docker -H unix://$SOCK exec ex cat /tmp/marker | grep -q done"
  # Exec in a stopped container is dockerd's conflict.
  d rm -f ex >/dev/null
  d create --network none --name stopped busybox true
  run d exec stopped true
  echo "$output"
  [ "$status" != 0 ]
  [[ "$output" == *"is not running"* ]]
}

@test "io: docker run streams the output and returns the exit code; docker attach sees output" {
  run d run --network none --name r1 busybox sh -c 'echo out; echo err >&2; exit 7'
  echo "$output"
  [ "$status" = 7 ]
  [[ "$output" == *out* ]]
  [[ "$output" == *err* ]]
  run d run --rm -a stdout --network none busybox echo only-stdout
  echo "$output"
  [ "$status" = 0 ]
  [ "$output" = only-stdout ]

  d run -d --network none --name at busybox sh -c 'sleep 2; echo attached-line; sleep 1'
  run d attach at
  echo "$output"
  [[ "$output" == *attached-line* ]]
}

@test "io: --log-opt max-size=1k max-file=2 keeps two files" {
  d run --network none --name rot --log-opt max-size=1k --log-opt max-file=2 busybox \
    sh -c 'i=0; while [ $i -lt 200 ]; do echo "rotation line $i"; i=$((i + 1)); done'
  id=$(d inspect -f '{{.Id}}' rot)
  log=$(d inspect -f '{{.LogPath}}' rot)
  [ -n "$log" ]
  ls -l "$(dirname "$log")"
  [ -e "$log" ] && [ -e "$log.1" ]
  [ ! -e "$log.2" ]
  run d logs rot
  [[ "$output" == *"rotation line 199"* ]]
}
