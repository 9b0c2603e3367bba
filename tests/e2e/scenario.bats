#!/usr/bin/env bats
# The user's session of tests/e2e/scenario.sh (run -d, ps, logs -f, exec, stop, restart
# on-failure, rm, a named volume) against a test silod, once with Silo's CLI and once
# with the real docker CLI. Each test starts its own silod in a throwaway test host
# (tests/lib/daemon.bash) and the scenario removes what it made; teardown removes
# anything a failure left.

load ../lib/daemon

setup() {
  daemon_setup
  require_shim
  SCENARIO="$BATS_TEST_DIRNAME/scenario.sh"
}
teardown() { daemon_teardown; }

# run_scenario CLI: runs the scenario in the test host (bounded), shows its output, and
# checks that it passed and left no container and no volume behind.
run_scenario() {
  require_curl
  start_silod
  TH_TIMEOUT=240 run th_in_host "$SCENARIO" "$1" "$SOCK"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[-1]}" == "scenario passed with "* ]]
  [ "$(api '/containers/json?all=1')" = "[]" ]
  [ "$(api /volumes | jq -c '.Volumes // []')" = "[]" ]
}

@test "scenario with silo: run -d, ps, logs -f, exec, stop, restart on-failure:3, rm, named volume" {
  require_silo_cli
  run_scenario "$SILO_CLI"
}

@test "scenario with docker: run -d, ps, logs -f, exec, stop, restart on-failure:3, rm, named volume" {
  require_docker
  run_scenario "$(command -v docker)"
}
