#!/usr/bin/env bats
# silo's terminal handling, driven like a person at a terminal: `silo run -it busybox sh`
# inside a tmux session (send-keys, paste-buffer, resize-window, capture-pane) against a
# test silod in a throwaway test host. Checks that a 64 KiB paste arrives whole, that the
# container sees the new size after a resize, that `exit` ends the container and silo
# with its code and leaves the tmux shell and its terminal settings intact, and that
# Ctrl-P Ctrl-Q detaches while the container keeps running.

load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }

setup() {
  daemon_require
  require_silo_cli
  require_curl
  require_shim
  command -v tmux >/dev/null || skip "skipped, because tmux is not installed"
  local out
  for route in "POST /containers/create" "POST /containers/x/attach" "POST /containers/x/resize" "POST /containers/x/exec"; do
    out=$(TH_TIMEOUT=10 api --max-time 2 -X "${route% *}" "${route#* }" 2>/dev/null) || true
    [[ "$out" != *'"page not found"'* ]] || skip "skipped, because silod does not serve $route yet"
  done
  N="tty$BATS_TEST_NUMBER-$$"
  TMUX_S="silo-tty-$$-$BATS_TEST_NUMBER"
  # A private tmux server (its own socket), so nothing touches the user's sessions.
  TMUX_SOCK="$TH_DIR/tmux-$BATS_TEST_NUMBER.sock"
  tmx new-session -d -s "$TMUX_S" -x 100 -y 30 "env PS1='host\$ ' bash --norc --noprofile"
}

teardown() {
  tmx kill-server 2>/dev/null || true
  silo_cli rm -f "$N" >/dev/null 2>&1 || true
}

tmx() { tmux -S "$TMUX_SOCK" "$@"; }
screen() { tmx capture-pane -p -J -t "$TMUX_S" -S -200; }
# Waits (up to 15 s) until the pane shows TEXT.
wait_screen() {
  local i
  for ((i = 0; i < 150; i++)); do
    screen | grep -qF -- "$1" && return 0
    sleep 0.1
  done
  echo "the pane never showed '$1'; it shows:"
  screen
  return 1
}
keys() { tmx send-keys -t "$TMUX_S" "$@"; }
# Starts `silo run -it ... busybox sh` in the pane, inside the test host.
start_shell() {
  keys "nsenter --net=/run/netns/$TH_NS $SILO_CLI -H unix://$SOCK run -it --name $N --network none busybox sh; echo \"silo-rc=\$?\"" Enter
  keys "echo ready-\$((6*7))" Enter
  wait_screen "ready-42"
}

@test "cli tty: a 64 KiB paste arrives whole in the container" {
  start_shell
  python3 -c '
import random, string
random.seed(7)
chars = string.ascii_letters + string.digits
print("\n".join("".join(random.choice(chars) for _ in range(63)) for _ in range(1024)))
' >"$TH_DIR/paste.txt"
  [ "$(stat -c %s "$TH_DIR/paste.txt")" -eq 65536 ]
  want=$(md5sum <"$TH_DIR/paste.txt" | cut -d' ' -f1)
  keys "cat > /tmp/p" Enter
  sleep 0.5
  tmx load-buffer -b silo-paste "$TH_DIR/paste.txt"
  tmx paste-buffer -b silo-paste -t "$TMUX_S"
  # The paste is done when the container's file has all of it (a canonical-mode tty
  # hands cat each line as it completes).
  for ((i = 0; i < 100; i++)); do
    got=$(silo_cli exec "$N" sh -c 'wc -c < /tmp/p' 2>/dev/null | tr -d ' ')
    [ "$got" = 65536 ] && break
    sleep 0.2
  done
  keys C-d
  run silo_cli exec "$N" md5sum /tmp/p
  echo "$output"
  [ "${output%% *}" = "$want" ]
}

@test "cli tty: the container sees the terminal's size, and its changes" {
  start_shell
  keys "stty size" Enter
  wait_screen "30 100"
  tmx resize-window -t "$TMUX_S" -x 120 -y 40
  sleep 0.5
  keys "clear; stty size" Enter
  wait_screen "40 120"
}

@test "cli tty: exit ends the container and silo with its code; the host shell and terminal survive" {
  start_shell
  keys "exit 7" Enter
  wait_screen "silo-rc=7"
  # The tmux shell is alive, and its terminal is back in canonical mode with echo.
  keys "stty -a | tr ' ' '\\n' | grep -xE 'icanon|echo' | tr '\\n' ' '; echo shell-alive" Enter
  wait_screen "icanon echo shell-alive"
  run silo_cli inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$N"
  [ "$output" = "exited 7" ]
}

@test "cli tty: Ctrl-P Ctrl-Q detaches silently and the container keeps running" {
  start_shell
  keys "clear" Enter
  sleep 0.3
  keys C-p C-q
  wait_screen "silo-rc=0"
  run silo_cli inspect -f '{{.State.Running}}' "$N"
  [ "$output" = true ]
  ! screen | grep -qi "escape"
  # Attach again, and leave through exit.
  keys "nsenter --net=/run/netns/$TH_NS $SILO_CLI -H unix://$SOCK attach $N; echo \"attach-rc=\$?\"" Enter
  sleep 1
  keys "echo back-\$((2*3))" Enter
  wait_screen "back-6"
  keys "exit 3" Enter
  wait_screen "attach-rc=3"
}
