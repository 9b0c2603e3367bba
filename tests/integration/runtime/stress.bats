#!/usr/bin/env bats
# The issue's reliability check, in the suite: 1,000 create/start/kill/delete cycles of a
# container limited to 8 MiB, zero failures (~90 s on a 2-core machine). The loop is
# bench/stress-8mib.sh, which makes its own throwaway network namespace and state root
# and removes them on exit. SILO_STRESS_N overrides the count (e.g. 100 for a quick run).

load ../../lib/testhost

setup() { th_require_root; }

@test "stress: 1000 create/start/kill/delete cycles at 8 MiB, zero failures" {
  command -v nsenter >/dev/null || skip "skipped, because nsenter (util-linux) is not installed"
  n=${SILO_STRESS_N:-1000}
  run env SILO_RUNTIME="$SILO_RUNTIME" SILO_ROOTFS="$SILO_ROOTFS" \
    "$BATS_TEST_DIRNAME/../../../bench/stress-8mib.sh" "$SILO_BUILD" "$n"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[-1]}" == "$n cycles, 0 failures,"* ]]
}
