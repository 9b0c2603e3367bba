#!/usr/bin/env bats
# The container process: args, env, cwd, user, capabilities, no_new_privs, rlimits,
# oom score, exit status, terminal and seccomp.

load ../../lib/testhost

setup() { th_setup_one; }
teardown() { testhost_teardown; }

# Prints the Cap* lines of /proc/self/status as "CapInh=... CapPrm=..." from $output.
cap_masks() {
  echo "$output" | awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ { printf "%s=%s ", substr($1, 1, 6), $2 }'
}

@test "args, env and cwd from the config are honoured" {
  b=$(th_bundle b '.process.cwd = "/tmp"' '.process.env += ["SILO_FOO=bar baz"]')
  th_args "$b" sh -c 'echo "$1|$2"; echo "$SILO_FOO"; pwd' sh 'one two' three
  run th_rt run --bundle "$b" "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "one two|three" ]
  [ "${lines[1]}" = "bar baz" ]
  [ "${lines[2]}" = /tmp ]
}

@test "the user's uid, gid and additional gids are applied" {
  # The seed's root dir may be 0700 (readable by host root only): use a 0755 copy.
  run_in_container 'id -u; id -g; id -G' ".root.path = \"$(th_rootfs_copy)\"" \
    '.process.user = {"uid":1000,"gid":1000,"additionalGids":[10]}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  [[ " ${lines[2]} " == *" 10 "* ]]
}

@test "a root process with only CAP_KILL has exactly that capability in every set" {
  run_in_container 'grep ^Cap /proc/self/status' \
    '.process.capabilities = {"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"inheritable":["CAP_KILL"],"permitted":["CAP_KILL"],"ambient":["CAP_KILL"]}'
  [ "$status" -eq 0 ]
  [ "$(cap_masks)" = "CapInh=0000000000000020 CapPrm=0000000000000020 CapEff=0000000000000020 CapBnd=0000000000000020 CapAmb=0000000000000020 " ]
}

@test "a non-root process gets the configured capability sets" {
  # CAP_CHOWN (bit 0) only in the bounding set; CAP_KILL (5) and CAP_NET_BIND_SERVICE
  # (10) in all: after exec a non-root process keeps the ambient ones.
  run_in_container 'grep ^Cap /proc/self/status' ".root.path = \"$(th_rootfs_copy)\"" \
    '.process.user = {"uid":1000,"gid":1000}' \
    '.process.capabilities = {"bounding":["CAP_CHOWN","CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_KILL","CAP_NET_BIND_SERVICE"],"inheritable":["CAP_KILL","CAP_NET_BIND_SERVICE"],"permitted":["CAP_KILL","CAP_NET_BIND_SERVICE"],"ambient":["CAP_KILL","CAP_NET_BIND_SERVICE"]}'
  [ "$status" -eq 0 ]
  [ "$(cap_masks)" = "CapInh=0000000000000420 CapPrm=0000000000000420 CapEff=0000000000000420 CapBnd=0000000000000421 CapAmb=0000000000000420 " ]
}

@test "empty capability sets drop every capability" {
  run_in_container 'grep ^Cap /proc/self/status' \
    '.process.capabilities = {"bounding":[],"effective":[],"inheritable":[],"permitted":[],"ambient":[]}'
  [ "$status" -eq 0 ]
  [ "$(cap_masks)" = "CapInh=0000000000000000 CapPrm=0000000000000000 CapEff=0000000000000000 CapBnd=0000000000000000 CapAmb=0000000000000000 " ]
}

@test "noNewPrivileges true sets NoNewPrivs" {
  run_in_container 'grep ^NoNewPrivs: /proc/self/status' '.process.noNewPrivileges = true'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | awk '{print $2}')" = 1 ]
}

@test "noNewPrivileges false leaves NoNewPrivs unset" {
  [ "$(awk '/^NoNewPrivs:/ {print $2}' /proc/self/status)" = 0 ] ||
    skip "skipped, because this shell already runs with no_new_privs"
  run_in_container 'grep ^NoNewPrivs: /proc/self/status' '.process.noNewPrivileges = false'
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | awk '{print $2}')" = 0 ]
}

@test "RLIMIT_NOFILE from the config is the container's open file limit" {
  # Not 1024: that is the default spec's value already.
  run_in_container 'ulimit -n; ulimit -Hn' '.process.rlimits = [{"type":"RLIMIT_NOFILE","soft":1234,"hard":2345}]'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1234 ]
  [ "${lines[1]}" = 2345 ]
}

@test "an RLIMIT_NOFILE hard limit above fs.nr_open makes the container fail to start" {
  nr_open=$(cat /proc/sys/fs/nr_open)
  [ "$nr_open" -lt 2000000 ] || skip "skipped, because fs.nr_open ($nr_open) is not below 2000000"
  run_in_container 'echo started' '.process.rlimits = [{"type":"RLIMIT_NOFILE","soft":1024,"hard":2000000}]'
  [ "$status" -ne 0 ]
  [[ "$output" != *started* ]]
  if th_is_silo; then
    [[ "$output" == *RLIMIT_NOFILE* ]]
  fi
  run th_rt state "$C"
  [ "$status" -ne 0 ]
}

@test "oomScoreAdj from the config is the process's oom_score_adj" {
  run_in_container 'cat /proc/self/oom_score_adj' '.process.oomScoreAdj = 500'
  [ "$status" -eq 0 ]
  [ "$output" = 500 ]
}

@test "run exits with the container process's exit code" {
  run_in_container 'exit 3'
  [ "$status" -eq 3 ]
}

@test "run exits with 128 plus the signal when the container process is killed" {
  b=$(th_sh_bundle b 'echo started; exec sleep 60')
  th_rt run --bundle "$b" "$C" >"$TH_DIR/run.out" 2>&1 3>&- &
  pid=$!
  th_wait_for 50 th_status_is "$C" running || { cat "$TH_DIR/run.out"; kill "$pid"; false; }
  th_rt kill "$C" KILL
  rc=0
  wait "$pid" || rc=$?
  cat "$TH_DIR/run.out"
  [ "$rc" -eq 137 ]
}

@test "a terminal process talks through the pty sent to the console socket" {
  [ -x "$SILO_RECVTTY" ] || skip "skipped, because $SILO_RECVTTY is not built (add tests/tools to the build)"
  sock="$TH_DIR/console.sock"
  "$SILO_RECVTTY" --timeout 20 "$sock" >"$TH_DIR/tty.out" 2>"$TH_DIR/tty.err" 3>&- &
  rpid=$!
  th_wait_for 50 test -S "$sock"
  b=$(th_sh_bundle b 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; echo hello-tty' '.process.terminal = true')
  run th_rt run -d --console-socket "$sock" --bundle "$b" "$C"
  echo "run: status=$status $output"
  [ "$status" -eq 0 ]
  rc=0
  wait "$rpid" || rc=$?
  tr -d '\r' <"$TH_DIR/tty.out" >"$TH_DIR/tty.txt"
  echo "recvtty: rc=$rc"
  cat "$TH_DIR/tty.txt" "$TH_DIR/tty.err"
  [ "$rc" -eq 0 ]
  grep -qx '/dev/pts/[0-9]*' "$TH_DIR/tty.txt"
  grep -qx stdio-is-a-tty "$TH_DIR/tty.txt"
  grep -qx hello-tty "$TH_DIR/tty.txt"
}

@test "a seccomp profile makes mkdir fail with EPERM while other calls work" {
  run_in_container 'mkdir /tmp/d; echo mkdir=$?; touch /tmp/f && echo touch-ok; ls /tmp' \
    '.mounts += [{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777"]}]' \
    '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
  [ "$status" -eq 0 ]
  [[ "$output" == *"Operation not permitted"* ]]
  [[ "$output" == *mkdir=1* ]]
  [[ "$output" == *touch-ok* ]]
  [ "${lines[-1]}" = f ]
}
