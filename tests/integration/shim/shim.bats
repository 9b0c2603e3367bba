#!/usr/bin/env bats
# silo-shim: the per-container supervisor. Each test runs the shim in a throwaway test
# host (nsenter --net keeps the host's mounts, so cgroups stay visible), with the test's
# runtime state root, so testhost_teardown's `delete --force` removes what a failed test
# leaves.

load ../../lib/testhost

: "${SILO_SHIM:=$SILO_BUILD/silo-shim}"
CLIENT="$BATS_TEST_DIRNAME/attach_client.py"

setup() {
  testhost_setup
  [ -x "$SILO_SHIM" ] || skip "skipped, because $SILO_SHIM is not built (set SILO_SHIM or build silo-shim)"
  command -v python3 >/dev/null || skip "skipped, because python3 (the attach client) is not installed"
  C=$(th_new_id shim)
  th_track "$C"
  LOG="$TH_DIR/c.log"
  EXIT="$TH_DIR/exit.json"
  SOCK="$TH_DIR/attach.sock"
  SHIM_PIDS=()
}

teardown() {
  # Stopping the container makes its shim exit by itself; one that does not is killed
  # by the pid it reported (never by name).
  [ -n "${C:-}" ] && th_rt delete --force "$C" >/dev/null 2>&1
  local p
  for p in "${SHIM_PIDS[@]}"; do
    th_wait_for 30 shim_gone "$p" || kill -KILL "$p" 2>/dev/null
  done
  testhost_teardown
}

shim_gone() { ! kill -0 "$1" 2>/dev/null; }

# Starts the shim for bundle $1 (more shim flags follow) and sets CPID and SHIM_PID
# from its report. Fails with the shim's stderr shown.
shim_start() {
  local b=$1; shift
  local rc=0
  th_in_host "$SILO_SHIM" --id "$C" --bundle "$b" --runtime-root "$TH_STATE" \
    --log-path "$LOG" --exit-file "$EXIT" --attach-socket "$SOCK" "$@" \
    </dev/null >"$TH_DIR/ready" 2>"$TH_DIR/shim.err" || rc=$?
  if [ "$rc" != 0 ]; then
    echo "silo-shim exited $rc: $(cat "$TH_DIR/shim.err")"
    return 1
  fi
  CPID=$(jq -r .pid "$TH_DIR/ready")
  SHIM_PID=$(jq -r .shim_pid "$TH_DIR/ready")
  SHIM_PIDS+=("$SHIM_PID")
}

wait_exit() { th_wait_for "${1:-100}" test -s "$EXIT"; }

# Runs the attach client against the shim's socket from inside the test host.
attach() { th_in_host python3 "$CLIENT" "$SOCK" "$@"; }

@test "shim: an echo container's output goes to the json-file log and its exit is recorded" {
  b=$(th_sh_bundle b 'echo hello; echo "a \"quoted\" <tag>" >&2')
  shim_start "$b"
  wait_exit
  cat "$LOG"
  [ "$(jq -r 'select(.stream=="stdout") | .log' "$LOG")" = "hello" ]
  [ "$(jq -r 'select(.stream=="stderr") | .log' "$LOG")" = 'a "quoted" <tag>' ]
  grep -q '"log":"hello\\n","stream":"stdout","time":"20[0-9-]*T[0-9:]*\.[0-9]\{9\}Z"}' "$LOG"
  [ "$(jq -c '{exit_code,signal,oom_killed}' "$EXIT")" = '{"exit_code":0,"signal":null,"oom_killed":false}' ]
  jq -e '.finished_at | test("Z$")' "$EXIT"
  # Everything is gone: the runtime's record (and with it the cgroup), the socket, the shim.
  [ ! -e "$TH_STATE/$C" ]
  [ ! -e "$SOCK" ]
  th_wait_for 30 shim_gone "$SHIM_PID"
}

@test "shim: exit code 3 is recorded" {
  b=$(th_sh_bundle b 'exit 3')
  shim_start "$b"
  wait_exit
  [ "$(jq -r .exit_code "$EXIT")" = 3 ]
  [ "$(jq -r .signal "$EXIT")" = null ]
}

@test "shim: the container outlives the process that launched the shim, which is not the shim's parent" {
  b=$(th_sh_bundle b 'trap "exit 7" TERM; while :; do sleep 0.1; done')
  # Started without th_in_host's timeout wrapper, so that $! is the launcher itself
  # (nsenter execs bash, which runs the shim and then becomes `sleep`).
  nsenter --net="/run/netns/$TH_NS" bash -c '"$0" --id "$1" --bundle "$2" --runtime-root "$3" --exit-file "$4" --attach-socket "$5" >"$6" 2>&1 </dev/null; exec sleep 600' \
    "$SILO_SHIM" "$C" "$b" "$TH_STATE" "$EXIT" "$SOCK" "$TH_DIR/ready" 3>&- &
  launcher=$!
  th_wait_for 100 test -s "$TH_DIR/ready"
  cat "$TH_DIR/ready"
  SHIM_PID=$(jq -r .shim_pid "$TH_DIR/ready")
  CPID=$(jq -r .pid "$TH_DIR/ready")
  SHIM_PIDS+=("$SHIM_PID")
  kill -KILL "$launcher"
  wait "$launcher" 2>/dev/null || true
  sleep 0.3
  th_status_is "$C" running
  kill -0 "$SHIM_PID"
  # The shim is the init's parent, and the launcher is not the shim's.
  [ "$(ps -o ppid= -p "$CPID" | tr -d ' ')" = "$SHIM_PID" ]
  [ "$(ps -o ppid= -p "$SHIM_PID" | tr -d ' ')" != "$launcher" ]
  # SIGTERM to the shim is forwarded to the container.
  kill -TERM "$SHIM_PID"
  wait_exit
  [ "$(jq -r .exit_code "$EXIT")" = 7 ]
  th_wait_for 30 shim_gone "$SHIM_PID"
}

@test "shim: attach clients receive the output live and can send stdin" {
  b=$(th_sh_bundle b 'read line; echo "got $line"; echo "to stderr" >&2')
  shim_start "$b" --stdin
  # A watching client first, then one that types.
  attach --connected "$TH_DIR/watching" >"$TH_DIR/w.out" 2>"$TH_DIR/w.err" &
  watcher=$!
  th_wait_for 50 test -e "$TH_DIR/watching"
  run attach --stdin 'hello\n' --close-stdin
  echo "$output"
  [ "$status" = 0 ]
  [[ "$output" == *"got hello"* ]]
  [[ "$output" == *"to stderr"* ]]
  wait "$watcher"
  [ "$(cat "$TH_DIR/w.out")" = "got hello" ]
  [ "$(cat "$TH_DIR/w.err")" = "to stderr" ]
  wait_exit
  [ "$(jq -r .exit_code "$EXIT")" = 0 ]
  grep -q '"log":"got hello\\n","stream":"stdout"' "$LOG"
}

@test "shim: tty mode gives the container a pty, raw output and resize" {
  b=$(th_sh_bundle b 'read x; echo "got $x"; stty size; [ -t 0 ] && echo is-a-tty' '.process.terminal=true')
  shim_start "$b" --tty --stdin
  run attach --tty --resize 30 100 --stdin 'abc\n'
  echo "$output"
  [ "$status" = 0 ]
  [[ "$output" == *"got abc"* ]]
  [[ "$output" == *"30 100"* ]]
  [[ "$output" == *"is-a-tty"* ]]
  wait_exit
  grep -q '"stream":"stdout"' "$LOG"
  ! grep -q '"stream":"stderr"' "$LOG"
  [ ! -e "$TH_STATE/$C.console.sock" ]
}

@test "shim: a 64 KiB paste to stdin arrives whole" {
  b=$(th_sh_bundle b 'wc -c')
  shim_start "$b" --stdin
  run attach --stdin-bytes 65536 --close-stdin
  echo "$output"
  [ "$status" = 0 ]
  [ "$(echo "$output" | tr -d ' ')" = 65536 ]
  wait_exit
  [ "$(jq -r .exit_code "$EXIT")" = 0 ]
}

@test "shim: a 4 MiB paste to stdin arrives whole through the shim's backpressure" {
  b=$(th_sh_bundle b 'sleep 1; wc -c')
  shim_start "$b" --stdin
  run attach --stdin-bytes 4194304 --close-stdin
  echo "$output"
  [ "$status" = 0 ]
  [ "$(echo "$output" | tr -d ' ')" = 4194304 ]
}

@test "shim: the log rotates at max-size, keeping max-file files" {
  b=$(th_sh_bundle b 'i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i + 1)); done')
  shim_start "$b" --log-max-size 2000 --log-max-file 3
  wait_exit
  ls -l "$TH_DIR"
  [ -e "$LOG" ] && [ -e "$LOG.1" ] && [ -e "$LOG.2" ]
  [ ! -e "$LOG.3" ]
  for f in "$LOG" "$LOG.1" "$LOG.2"; do
    [ "$(stat -c %s "$f")" -le 2100 ]
  done
  [ "$(tail -n 1 "$LOG" | jq -r .log)" = "line 299" ]
  # The rotated generations follow on from one another.
  last1=$(tail -n 1 "$LOG.1" | jq -r .log)
  first0=$(head -n 1 "$LOG" | jq -r .log)
  [ "${first0#line }" = "$(( ${last1#line } + 1 ))" ]
}

@test "shim: a create error reaches the caller and leaves nothing behind" {
  b=$(th_sh_bundle b 'true' '.mounts += [{"destination": "/mnt", "type": "nofs", "source": "none"}]')
  run th_in_host "$SILO_SHIM" --id "$C" --bundle "$b" --runtime-root "$TH_STATE" \
    --log-path "$LOG" --exit-file "$EXIT" --attach-socket "$SOCK"
  echo "status=$status output=$output"
  [ "$status" = 1 ]
  [[ "$output" == *"silo-shim: "*"nofs"*"ENODEV"* ]]
  [ ! -e "$TH_STATE/$C" ]
  [ ! -e "$SOCK" ]
  [ ! -e "$EXIT" ]
  [ ! -e "$LOG" ]
  # No cgroup named after the container in any hierarchy.
  [ -z "$(find /sys/fs/cgroup -maxdepth 4 -type d -name "*$C*" 2>/dev/null)" ]
  # No shim left running for it.
  ! grep -lsa -- "$C" /proc/[0-9]*/cmdline
}

@test "shim: its own memory stays small with a sleeping container" {
  b=$(th_sh_bundle b 'exec sleep 600')
  shim_start "$b"
  sleep 0.5
  grep -E 'VmRSS|RssAnon|RssFile' "/proc/$SHIM_PID/status"
  # VmRSS also counts clean pages of the executable, shared by every shim through the
  # page cache; what each shim costs on its own is its anonymous memory.
  anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$SHIM_PID/status")
  [ "$anon" -le 1024 ]
}

@test "shim: the start-up report also goes to --ready-fd" {
  b=$(th_sh_bundle b 'exit 0')
  th_in_host "$SILO_SHIM" --id "$C" --bundle "$b" --runtime-root "$TH_STATE" --exit-file "$EXIT" \
    --ready-fd 5 5>"$TH_DIR/readyfd" </dev/null >/dev/null
  jq -e '.pid > 0 and .shim_pid > 0' "$TH_DIR/readyfd"
  SHIM_PIDS+=("$(jq -r .shim_pid "$TH_DIR/readyfd")")
  wait_exit
}

@test "shim: VmRSS of a shim holding an idle container is at most 1 MiB" {
  file -L "$SILO_SHIM" 2>/dev/null | grep -q 'statically linked' ||
    skip "skipped, because $SILO_SHIM is not statically linked (the 1 MiB goal needs the static build)"
  b=$(th_sh_bundle b 'exec sleep 600')
  shim_start "$b" --log-path "$LOG"
  # The shim sheds its text pages after 1 s without events.
  sleep 1.5
  grep -E 'VmRSS|RssAnon|RssFile' "/proc/$SHIM_PID/status"
  [ -n "${SHIM_RSS_REPORT:-}" ] && grep -E 'VmRSS|RssAnon|RssFile' "/proc/$SHIM_PID/status" >&3
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SHIM_PID/status")
  [ "$rss" -le 1024 ]
}

# Writes the bundle $1's process with args `sh -c $2` (jq filters follow) to $TH_DIR/p.json.
exec_process() {
  local b=$1 script=$2; shift 2
  local f
  jq --arg s "$script" '.process | .args = ["sh", "-c", $s]' "$b/config.json" >"$TH_DIR/p.json"
  for f in "$@"; do
    jq "$f" "$TH_DIR/p.json" >"$TH_DIR/p.tmp" && mv "$TH_DIR/p.tmp" "$TH_DIR/p.json"
  done
}

XSOCK_NAME=x.sock
# Runs an exec shim for container $C (flags follow) in the background; sets XPID to the
# launcher's pid. Its report goes to $TH_DIR/xready, errors to $TH_DIR/xerr.
exec_shim_bg() {
  th_in_host "$SILO_SHIM" --exec-id "e$C" --id "$C" --process "$TH_DIR/p.json" \
    --runtime-root "$TH_STATE" --exit-file "$TH_DIR/xexit.json" \
    --attach-socket "$TH_DIR/$XSOCK_NAME" "$@" </dev/null >"$TH_DIR/xready" 2>"$TH_DIR/xerr" &
  XPID=$!
}

@test "shim exec: runs a process in the running container; the client sees its output and exit" {
  b=$(th_sh_bundle b 'exec sleep 600')
  shim_start "$b"
  exec_process "$b" 'echo out; echo err >&2; cat /proc/1/cmdline | tr "\0" " "; exit 5'
  exec_shim_bg --wait-client-ms 10000
  th_wait_for 100 test -S "$TH_DIR/$XSOCK_NAME"
  run th_in_host python3 "$CLIENT" "$TH_DIR/$XSOCK_NAME"
  echo "$output"
  [ "$status" = 0 ]
  [[ "$output" == *"out"* ]]
  [[ "$output" == *"err"* ]]
  # It ran in the container's pid namespace: pid 1 is the container's sleep.
  [[ "$output" == *"sleep 600"* ]]
  wait "$XPID"
  cat "$TH_DIR/xready"
  jq -e '.pid > 0' "$TH_DIR/xready"
  th_wait_for 100 test -s "$TH_DIR/xexit.json"
  [ "$(jq -r .exit_code "$TH_DIR/xexit.json")" = 5 ]
  # The container is left running, and exec output is not logged.
  th_status_is "$C" running
  ! grep -q '"log":"out' "$LOG"
}

@test "shim exec: a detached exec runs and its exit is recorded; a tty exec gets a pty" {
  b=$(th_sh_bundle b 'exec sleep 600')
  shim_start "$b"
  exec_process "$b" 'echo hi > /tmp/marker; exit 3'
  exec_shim_bg
  wait "$XPID"
  th_wait_for 100 test -s "$TH_DIR/xexit.json"
  [ "$(jq -r .exit_code "$TH_DIR/xexit.json")" = 3 ]
  th_status_is "$C" running

  rm -f "$TH_DIR/xexit.json"
  XSOCK_NAME=t.sock
  exec_process "$b" '[ -t 0 ] && echo is-a-tty; read x; echo "got $x"' '.terminal = true'
  exec_shim_bg --tty --stdin --wait-client-ms 10000
  th_wait_for 100 test -S "$TH_DIR/$XSOCK_NAME"
  run th_in_host python3 "$CLIENT" "$TH_DIR/$XSOCK_NAME" --tty --stdin 'abc\n'
  echo "$output"
  [[ "$output" == *"is-a-tty"* ]]
  [[ "$output" == *"got abc"* ]]
  wait "$XPID"
  th_wait_for 100 test -s "$TH_DIR/xexit.json"
  [ "$(jq -r .exit_code "$TH_DIR/xexit.json")" = 0 ]
}

@test "shim exec: an exec into a container that does not run fails with the runtime's reason" {
  b=$(th_sh_bundle b 'true')
  exec_process "$b" 'true'
  run th_in_host "$SILO_SHIM" --exec-id "e$C" --id "$C" --process "$TH_DIR/p.json" \
    --runtime-root "$TH_STATE" --exit-file "$TH_DIR/xexit.json"
  echo "$output"
  [ "$status" = 1 ]
  [[ "$output" == "silo-shim: "* ]]
  [ ! -e "$TH_DIR/xexit.json" ]
}
