#!/usr/bin/env bash
# Runs the suites (unit with ctest, integration and e2e with bats) and prints one
# closing line: "N passed, N failed, N skipped". Exit status is non-zero on any failure.
# SILO_SUITES picks suites (default: "unit integration e2e").
set -uo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
export SILO_BUILD=$(cd "$build" && pwd)
export SILO_ROOT=$root
suites=${SILO_SUITES:-unit integration e2e}
passed=0 failed=0 skipped=0

run_unit() {
  local out
  out=$(cd "$SILO_BUILD" && ctest --output-on-failure 2>&1)
  echo "$out" | tail -n 40
  local line total nfail
  line=$(echo "$out" | grep -E 'tests passed, [0-9]+ tests? failed out of' | tail -1)
  total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
  nfail=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/')
  [ -n "$total" ] || { failed=$((failed + 1)); echo "unit: ctest printed no summary"; return; }
  passed=$((passed + total - nfail))
  failed=$((failed + nfail))
}

run_bats() {
  local dir=$1 files
  files=$(find "$root/tests/$dir" -name '*.bats' 2>/dev/null | sort)
  [ -n "$files" ] || return 0
  local out
  # shellcheck disable=SC2086
  out=$(bats --tap $files 2>&1)
  echo "$out"
  local s p f
  s=$(echo "$out" | grep -cE '^ok [0-9]+ .*# skip')
  p=$(echo "$out" | grep -E '^ok [0-9]+' | grep -cv '# skip')
  f=$(echo "$out" | grep -cE '^not ok [0-9]+')
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

for s in $suites; do
  echo "=== suite: $s"
  case $s in
    unit) run_unit ;;
    integration) run_bats integration ;;
    e2e) run_bats e2e ;;
  esac
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
