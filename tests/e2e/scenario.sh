#!/usr/bin/env bash
# A user's session with a container host, run step by step with one CLI:
#
#   tests/e2e/scenario.sh CLI SOCKET
#
# CLI is `silo` (given -H unix://SOCKET) or `docker` (given DOCKER_HOST=unix://SOCKET);
# any path to either works. The daemon behind SOCKET must know the image `busybox`
# (silod seeds it; for dockerd, `docker import` the busybox rootfs). Every container
# runs with --network none; names are prefixed with the CLI's name and this script's pid
# so two runs do not meet. Prints each step; exits non-zero on the first failure, naming
# the step. Removes what it made on every exit (trap).
#
# Steps: run -d a ticker (a line every 0.2 s); ps shows it; logs -f shows new lines
# (bounded); exec prints from inside and passes the exit code; stop; a failing container
# with --restart on-failure:3 is restarted three times and ends exited with its code; rm;
# a named volume written by one container is read by the next.
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 CLI SOCKET" >&2
  exit 2
fi
CLI=$1
SOCKET=$2
CLI_NAME=$(basename "$CLI")
# Bound for one CLI command, seconds.
: "${SCENARIO_CMD_TIMEOUT:=30}"

CLI_ARGS=()
if [ "$CLI_NAME" = docker ]; then
  export DOCKER_HOST="unix://$SOCKET"
else
  CLI_ARGS=(-H "unix://$SOCKET")
fi
# cli ARGS...: one CLI command, bounded.
cli() { timeout "$SCENARIO_CMD_TIMEOUT" "$CLI" "${CLI_ARGS[@]}" "$@"; }
command -v jq >/dev/null || { echo "error: jq is not installed" >&2; exit 2; }

P="${CLI_NAME}-sc$$"
TICKER="$P-ticker"
FAILER="$P-failer"
VOL="$P-vol"
STEP=

cleanup() {
  local rc=$?
  cli rm -f "$TICKER" "$FAILER" "$P-writer" "$P-reader" >/dev/null 2>&1
  cli volume rm -f "$VOL" >/dev/null 2>&1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# step NAME: starts a step.
step() {
  STEP=$1
  STEP_START=$SECONDS
  echo "--- $CLI_NAME: $STEP"
}

# fail MESSAGE...: ends the scenario, naming the step.
fail() {
  echo "FAIL [$CLI_NAME] step '$STEP': $*" >&2
  exit 1
}

# ok: ends a step.
ok() { echo "    ok ($((SECONDS - STEP_START)) s)"; }

# inspect_field NAME JQ: one field of `inspect NAME` (the first object of its array).
inspect_field() {
  cli inspect "$1" 2>/dev/null | jq -r ".[0] | $2"
}

# wait_until TENTHS CMD...: polls CMD every 0.1 s until it succeeds.
wait_until() {
  local n=$1; shift
  while ! "$@" >/dev/null 2>&1; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------------------------------
step "run -d a container that prints a line every 0.2 s"
out=$(cli run -d --network none --name "$TICKER" busybox \
  sh -c 'i=0; while true; do i=$((i + 1)); echo "tick $i"; sleep 0.2; done' 2>&1) ||
  fail "run -d exited non-zero: $out"
ID=$(tail -n 1 <<<"$out")
[[ "$ID" =~ ^[0-9a-f]{64}$ ]] || fail "run -d printed '$out', not a 64-hex container id"
[ "$(inspect_field "$TICKER" .State.Status)" = running ] ||
  fail "inspect says status '$(inspect_field "$TICKER" .State.Status)', want running"
ok

step "ps shows it running"
out=$(cli ps 2>&1) || fail "ps exited non-zero: $out"
line=$(grep -E "(^| )$TICKER\$" <<<"$out") || fail "ps does not list $TICKER:"$'\n'"$out"
[[ "$line" == "${ID:0:12}"* ]] || fail "ps line for $TICKER does not start with the short id ${ID:0:12}: $line"
[[ "$line" == *" Up "* ]] || fail "ps line for $TICKER does not say Up: $line"
out=$(cli ps -q 2>&1) || fail "ps -q exited non-zero: $out"
grep -qx "${ID:0:12}" <<<"$out" || fail "ps -q does not list ${ID:0:12}: $out"
ok

step "logs shows its lines; logs -f keeps following (bounded 2 s)"
wait_until 50 eval 'cli logs "$TICKER" 2>/dev/null | grep -q "^tick 3$"' ||
  fail "logs did not show 'tick 3' within 5 s: $(cli logs "$TICKER" 2>&1 | tail -n 5)"
before=$(cli logs "$TICKER" 2>/dev/null | grep -c '^tick ')
follow=$(timeout 2 "$CLI" "${CLI_ARGS[@]}" logs -f "$TICKER" 2>&1)
rc=$?
[ "$rc" -eq 124 ] || fail "logs -f ended by itself (status $rc) while the container runs: $(tail -n 5 <<<"$follow")"
last=$(grep -E '^tick [0-9]+$' <<<"$follow" | tail -n 1 | cut -d' ' -f2)
[ -n "$last" ] || fail "logs -f printed no tick line: $(head -n 5 <<<"$follow")"
grep -qx 'tick 1' <<<"$follow" || fail "logs -f did not start from the first line"
[ "$last" -gt "$before" ] || fail "logs -f showed no new line (last tick $last, $before before following)"
ok

step "exec prints from inside the container and passes its exit code"
out=$(cli exec "$TICKER" sh -c 'echo "inside $(hostname) pid1=$(cat /proc/1/comm)"' 2>&1) ||
  fail "exec exited non-zero: $out"
[ "$out" = "inside ${ID:0:12} pid1=sh" ] || fail "exec printed '$out', want 'inside ${ID:0:12} pid1=sh'"
cli exec "$TICKER" sh -c 'exit 7' >/dev/null 2>&1
rc=$?
[ "$rc" -eq 7 ] || fail "exec of 'exit 7' exited $rc, want 7"
ok

step "stop (sh as pid 1 ignores SIGTERM: killed after -t 1)"
out=$(cli stop -t 1 "$TICKER" 2>&1) || fail "stop exited non-zero: $out"
[ "$out" = "$TICKER" ] || fail "stop printed '$out', want '$TICKER'"
state=$(inspect_field "$TICKER" '.State | "\(.Status) \(.ExitCode) \(.Running)"')
[ "$state" = "exited 137 false" ] || fail "after stop inspect says '$state', want 'exited 137 false'"
out=$(cli ps 2>&1)
grep -qE "(^| )$TICKER\$" <<<"$out" && fail "ps still lists $TICKER after stop:"$'\n'"$out"
out=$(cli ps -a 2>&1)
line=$(grep -E "(^| )$TICKER\$" <<<"$out") || fail "ps -a does not list the stopped $TICKER:"$'\n'"$out"
[[ "$line" == *"Exited (137)"* ]] || fail "ps -a line for $TICKER does not say Exited (137): $line"
ok

step "a failing container with --restart on-failure:3 is restarted 3 times"
out=$(cli run -d --network none --name "$FAILER" --restart on-failure:3 busybox \
  sh -c 'echo "failing"; exit 3' 2>&1) || fail "run -d exited non-zero: $out"
restarted() {
  [ "$(inspect_field "$FAILER" '"\(.RestartCount) \(.State.Status)"')" = "3 exited" ]
}
wait_until 200 restarted ||
  fail "not 'RestartCount 3, exited' within 20 s: inspect says $(inspect_field "$FAILER" '"RestartCount \(.RestartCount), status \(.State.Status)"')"
state=$(inspect_field "$FAILER" '"\(.State.ExitCode) \(.HostConfig.RestartPolicy.Name):\(.HostConfig.RestartPolicy.MaximumRetryCount)"')
[ "$state" = "3 on-failure:3" ] || fail "inspect says '$state', want exit code 3 and policy on-failure:3"
n=$(cli logs "$FAILER" 2>&1 | grep -c '^failing$')
[ "$n" -eq 4 ] || fail "logs show $n 'failing' lines, want 4 (1 run + 3 restarts)"
# No more restarts once the count is spent.
sleep 1
[ "$(inspect_field "$FAILER" .RestartCount)" = 3 ] || fail "restarted again past the limit: RestartCount $(inspect_field "$FAILER" .RestartCount)"
line=$(cli ps -a 2>&1 | grep -E "(^| )$FAILER\$") || fail "ps -a does not list $FAILER"
[[ "$line" == *"Exited (3)"* ]] || fail "ps -a line for $FAILER does not say Exited (3): $line"
ok

step "rm removes both containers"
out=$(cli rm "$TICKER" "$FAILER" 2>&1) || fail "rm exited non-zero: $out"
[ "$out" = "$TICKER"$'\n'"$FAILER" ] || fail "rm printed '$out', want the two names"
out=$(cli inspect "$TICKER" 2>&1) && fail "inspect of the removed $TICKER succeeded: $out"
grep -qi "no such" <<<"$out" || fail "inspect of the removed $TICKER does not say 'No such': $out"
out=$(cli ps -a 2>&1)
grep -qE "(^| )($TICKER|$FAILER)\$" <<<"$out" && fail "ps -a still lists a removed container:"$'\n'"$out"
ok

step "a named volume written by one container is read by the next"
out=$(cli volume create "$VOL" 2>&1) || fail "volume create exited non-zero: $out"
[ "$out" = "$VOL" ] || fail "volume create printed '$out', want '$VOL'"
out=$(cli run --rm --network none --name "$P-writer" -v "$VOL:/data" busybox \
  sh -c "echo 'written by $P' >/data/note && echo wrote" 2>&1) || fail "the writer exited non-zero: $out"
[ "$out" = wrote ] || fail "the writer printed '$out', want 'wrote' (attached output of run --rm)"
out=$(cli run --rm --network none --name "$P-reader" -v "$VOL:/data:ro" busybox cat /data/note 2>&1) ||
  fail "the reader exited non-zero: $out"
[ "$out" = "written by $P" ] || fail "the reader printed '$out', want 'written by $P'"
out=$(cli ps -a 2>&1)
grep -qE "(^| )$P-(writer|reader)\$" <<<"$out" && fail "run --rm left a container:"$'\n'"$out"
out=$(cli volume rm "$VOL" 2>&1) || fail "volume rm exited non-zero: $out"
out=$(cli volume ls -q 2>&1)
grep -qx "$VOL" <<<"$out" && fail "volume ls still lists $VOL"
ok

echo "scenario passed with $CLI_NAME"
