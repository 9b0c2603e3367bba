#!/usr/bin/env bats
# The Python docker SDK against a test silod (tests/e2e/sdk_test.py): containers.create,
# start, wait, logs, remove; containers.run(remove=True) returning the output; the
# SDK's exceptions for a non-zero exit and an unknown image. The test starts its own
# silod in a throwaway test host (tests/lib/daemon.bash).

load ../lib/daemon

setup() {
  daemon_setup
  require_shim
  require_docker_sdk
}
teardown() { daemon_teardown; }

@test "python docker SDK: create, start, wait == 3, logs == hi, remove; run(remove=True) returns the output" {
  require_curl
  start_silod
  TH_TIMEOUT=120 run th_in_host python3 "$BATS_TEST_DIRNAME/sdk_test.py" "unix://$SOCK" "sdk$$"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "sdk test passed" ]
  [ "$(api '/containers/json?all=1')" = "[]" ]
}
