#!/usr/bin/env bats
# The runtime's commands: spec, create, start, state, kill, delete, run -d, exec, ps,
# list, features, --log, and the six kinds of hooks.

load ../../lib/testhost

setup() { th_setup_one; }
teardown() { testhost_teardown; }

# Makes bundle NAME whose process is ARGS... (no filters): b=$(bundle_with b sleep 60)
bundle_with() {
  local name=$1; shift
  local b
  b=$(th_bundle "$name") || return 1
  th_args "$b" "$@" || return 1
  echo "$b"
}

# Starts container ID from BUNDLE with `run -d` and fails unless it is running.
run_detached() {
  local b=$1 id=$2
  shift 2
  th_rt_detached run -d "$@" --bundle "$b" "$id" || return 1
  th_status_is "$id" running || { echo "state of $id: $(th_rt state "$id" 2>&1)"; return 1; }
}

# A bind mount of TH_DIR/share at /home in the container, for files both sides can see.
share_filter() {
  mkdir -p "$TH_DIR/share"
  echo ".mounts += [{\"destination\":\"/home\",\"type\":\"bind\",\"source\":\"$TH_DIR/share\",\"options\":[\"rbind\",\"rw\"]}]"
}

@test "spec writes a config.json into the --bundle dir" {
  mkdir "$TH_DIR/sb"
  run "$SILO_RUNTIME" spec --bundle "$TH_DIR/sb"
  echo "$output"
  [ "$status" -eq 0 ]
  run jq -c '[.ociVersion, .process.args, .root.path]' "$TH_DIR/sb/config.json"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^\[\"1\.[0-9]+\.[0-9]+[^\"]*\",\[\"sh\"\],\"rootfs\"\]$ ]]
}

@test "spec refuses to overwrite an existing config.json" {
  mkdir "$TH_DIR/sb"
  echo '{"mine":true}' >"$TH_DIR/sb/config.json"
  run "$SILO_RUNTIME" spec --bundle "$TH_DIR/sb"
  echo "$output"
  [ "$status" -ne 0 ]
  [ "$(cat "$TH_DIR/sb/config.json")" = '{"mine":true}' ]
}

@test "spec --rootless adds a user namespace with uid and gid mappings" {
  mkdir "$TH_DIR/sb"
  run "$SILO_RUNTIME" spec --rootless --bundle "$TH_DIR/sb"
  [ "$status" -eq 0 ]
  run jq -e '(.linux.namespaces | map(.type) | index("user")) != null
             and (.linux.uidMappings | length) > 0 and (.linux.gidMappings | length) > 0' \
    "$TH_DIR/sb/config.json"
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "create leaves a created container with its pid, bundle, id and ociVersion in state" {
  b=$(bundle_with b sleep 60)
  run th_rt_detached create --bundle "$b" "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  run th_rt state "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .status)" = created ]
  [ "$(echo "$output" | jq -r .id)" = "$C" ]
  [ "$(echo "$output" | jq -r .bundle)" = "$b" ]
  [ -n "$(echo "$output" | jq -r '.ociVersion // empty')" ]
  pid=$(echo "$output" | jq -r .pid)
  [ "$pid" -gt 0 ]
  kill -0 "$pid"
  if th_is_silo; then
    echo "$output" | jq -e 'has("oomKilled")'
  fi
}

@test "start makes a created container running" {
  b=$(bundle_with b sleep 60)
  th_rt_detached create --bundle "$b" "$C"
  run th_rt start "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  th_status_is "$C" running
}

@test "a container whose process exits is stopped" {
  b=$(bundle_with b true)
  th_rt_detached create --bundle "$b" "$C"
  th_rt start "$C"
  th_wait_for 50 th_status_is "$C" stopped
}

@test "delete removes a stopped container and state then fails" {
  b=$(bundle_with b true)
  th_rt_detached create --bundle "$b" "$C"
  th_rt start "$C"
  th_wait_for 50 th_status_is "$C" stopped
  run th_rt delete "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  run th_rt state "$C"
  echo "$output"
  [ "$status" -ne 0 ]
  [ ! -e "$TH_STATE/$C" ]
}

@test "run -d writes the container init's pid to --pid-file" {
  b=$(bundle_with b sleep 60)
  run_detached "$b" "$C" --pid-file "$TH_DIR/pid"
  pid=$(cat "$TH_DIR/pid")
  [ "$pid" = "$(th_rt state "$C" | jq -r .pid)" ]
  [ "$(cat "/proc/$pid/comm")" = sleep ]
}

@test "kill without a signal sends SIGTERM" {
  b=$(th_sh_bundle b 'trap "echo TERM > /home/sig; exit 0" TERM; sleep 60 & wait' "$(share_filter)")
  run_detached "$b" "$C"
  run th_rt kill "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  th_wait_for 50 th_status_is "$C" stopped
  [ "$(cat "$TH_DIR/share/sig")" = TERM ]
}

@test "kill delivers a named signal to the container's init" {
  b=$(th_sh_bundle b 'trap "echo USR1 > /home/sig; exit 0" USR1; sleep 60 & wait' "$(share_filter)")
  run_detached "$b" "$C"
  run th_rt kill "$C" USR1
  echo "$output"
  [ "$status" -eq 0 ]
  th_wait_for 50 th_status_is "$C" stopped
  [ "$(cat "$TH_DIR/share/sig")" = USR1 ]
}

@test "kill accepts the KILL, 9 and SIGKILL forms of a signal" {
  b=$(bundle_with b sleep 60)
  for sig in KILL 9 SIGKILL; do
    id="$C-$sig"
    th_track "$id"
    run_detached "$b" "$id"
    run th_rt kill "$id" "$sig"
    echo "kill $sig: status=$status $output"
    [ "$status" -eq 0 ]
    th_wait_for 50 th_status_is "$id" stopped
  done
}

@test "kill --all signals every process of the container" {
  b=$(bundle_with b sh -c 'sleep 61 & sleep 62 & wait')
  run_detached "$b" "$C"
  th_wait_for 50 test "$(th_rt ps --format json "$C" | jq length)" -eq 3
  pids=$(th_rt ps --format json "$C" | jq -r '.[]')
  run th_rt kill --all "$C" KILL
  echo "$output"
  [ "$status" -eq 0 ]
  th_wait_for 50 th_status_is "$C" stopped
  for p in $pids; do
    # Gone, or a zombie waiting for its reaper.
    state=$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    [ -z "$state" ] || [ "$state" = Z ] || { echo "pid $p is still $state"; return 1; }
  done
}

@test "delete --force removes a running container and its process" {
  b=$(bundle_with b sleep 60)
  run_detached "$b" "$C"
  pid=$(th_rt state "$C" | jq -r .pid)
  run th_rt delete --force "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  run th_rt state "$C"
  [ "$status" -ne 0 ]
  state=$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -z "$state" ] || [ "$state" = Z ]
}

@test "delete of a running container without --force fails and leaves it running" {
  b=$(bundle_with b sleep 60)
  run_detached "$b" "$C"
  run th_rt delete "$C"
  echo "$output"
  [ "$status" -ne 0 ]
  th_status_is "$C" running
}

@test "create with an id already in use fails and leaves the first container alone" {
  b=$(bundle_with b sleep 60)
  th_rt_detached create --bundle "$b" "$C"
  b2=$(bundle_with b2 sleep 60)
  run th_rt_detached create --bundle "$b2" "$C"
  echo "$output"
  [ "$status" -ne 0 ]
  [ "$(th_rt state "$C" | jq -r .bundle)" = "$b" ]
  th_status_is "$C" created
}

@test "create with an id containing a slash fails" {
  b=$(bundle_with b sleep 60)
  th_track "x/$C"
  run th_rt_detached create --bundle "$b" "x/$C"
  echo "$output"
  [ "$status" -ne 0 ]
  [ ! -e "$TH_STATE/x" ]
  [ -z "$(th_rt list -q)" ]
}

@test "exec runs a process in the container's pid and uts namespaces" {
  b=$(th_bundle b '.hostname = "silo-box"')
  th_args "$b" sleep 60
  run_detached "$b" "$C"
  run th_rt exec "$C" sh -c 'echo $$; hostname; ps -o pid,comm'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" -gt 1 ]
  [ "${lines[1]}" = silo-box ]
  echo "$output" | grep -Eq '^ *1 +sleep$'
}

@test "exec returns the exit code of the exec'd process" {
  b=$(bundle_with b sleep 60)
  run_detached "$b" "$C"
  run th_rt exec "$C" sh -c 'exit 7'
  [ "$status" -eq 7 ]
}

@test "exec --cwd, --env and --user set up the exec'd process" {
  b=$(th_bundle b ".root.path = \"$(th_rootfs_copy)\"")
  th_args "$b" sleep 60
  run_detached "$b" "$C"
  run th_rt exec --cwd /tmp --env SILO_Y=yes --user 1000:1000 "$C" sh -c 'pwd; echo $SILO_Y; id -u; id -g'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '/tmp\nyes\n1000\n1000')" ]
}

@test "exec --process runs the process described in a JSON file" {
  b=$(bundle_with b sleep 60)
  run_detached "$b" "$C"
  cat >"$TH_DIR/process.json" <<'JSON'
{"terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/tmp",
 "args": ["sh", "-c", "echo $SILO_X; pwd"],
 "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SILO_X=from-file"]}
JSON
  run th_rt exec --process "$TH_DIR/process.json" "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'from-file\n/tmp')" ]
}

@test "exec -d starts the process in the background and writes its pid" {
  b=$(bundle_with b sleep 60)
  run_detached "$b" "$C"
  run th_rt_detached exec -d --pid-file "$TH_DIR/epid" "$C" sleep 59
  echo "$output"
  [ "$status" -eq 0 ]
  pid=$(cat "$TH_DIR/epid")
  [ "$(cat "/proc/$pid/comm")" = sleep ]
  th_rt ps --format json "$C" | jq -e --argjson p "$pid" 'index($p) != null'
}

@test "ps lists the container's processes as a table" {
  b=$(bundle_with b sleep 60)
  run_detached "$b" "$C"
  pid=$(th_rt state "$C" | jq -r .pid)
  run th_rt ps "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *PID* ]]
  echo "${lines[@]:1}" | grep -qw "$pid"
}

@test "ps --format json prints the container's pids as an array" {
  b=$(bundle_with b sh -c 'sleep 60 & wait')
  run_detached "$b" "$C"
  pid=$(th_rt state "$C" | jq -r .pid)
  th_wait_for 50 test "$(th_rt ps --format json "$C" | jq length)" -eq 2
  run th_rt ps --format json "$C"
  echo "$output"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --argjson p "$pid" 'type == "array" and length == 2 and index($p) != null'
}

@test "list shows each container's id, pid, status and bundle in a table" {
  b=$(bundle_with b sleep 60)
  th_rt_detached create --bundle "$b" "$C"
  pid=$(th_rt state "$C" | jq -r .pid)
  run th_rt list
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ ^ID\ +PID\ +STATUS\ +BUNDLE ]]
  [ "${#lines[@]}" -eq 2 ]
  [ "$(echo "${lines[1]}" | awk '{print $1, $2, $3, $4}')" = "$C $pid created $b" ]
}

@test "list --format json prints an array of container states" {
  b=$(bundle_with b sleep 60)
  th_rt_detached create --bundle "$b" "$C"
  pid=$(th_rt state "$C" | jq -r .pid)
  run th_rt list --format json
  echo "$output"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --arg id "$C" --arg b "$b" --argjson pid "$pid" \
    'type == "array" and length == 1 and .[0].id == $id and .[0].pid == $pid
     and .[0].status == "created" and .[0].bundle == $b'
}

@test "list -q prints only the container ids" {
  b=$(bundle_with b sleep 60)
  th_rt_detached create --bundle "$b" "$C"
  th_track "$C-2"
  th_rt_detached create --bundle "$b" "$C-2"
  run th_rt list -q
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | sort)" = "$(printf '%s\n' "$C" "$C-2" | sort)" ]
}

@test "features prints JSON with the OCI version range and the namespaces" {
  run "$SILO_RUNTIME" features
  echo "$output"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '(.ociVersionMin | type) == "string" and (.ociVersionMax | type) == "string"
    and ((.linux.namespaces // .namespaces) | index("pid") != null and index("network") != null)'
}

@test "--log with --log-format json records an error as a JSON line" {
  run th_rt --log "$TH_DIR/log.json" --log-format json state "no-such-$C"
  echo "$output"
  [ "$status" -ne 0 ]
  cat "$TH_DIR/log.json"
  [ -s "$TH_DIR/log.json" ]
  # Every line is a JSON object, and one of them is an error with a message.
  jq -e 'type == "object"' "$TH_DIR/log.json" >/dev/null
  jq -se 'map(select(.level == "error" and (.msg | length) > 0)) | length > 0' "$TH_DIR/log.json"
}

@test "hooks of all six kinds run in order and get the state on stdin" {
  h="$TH_DIR/share"
  mkdir -p "$h"
  # Hooks in the runtime namespace use host paths. startContainer runs inside the
  # container, so it uses the container's /bin/sh and the bind mount at /home.
  hook() { echo "{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"$3cat > $2/$1.json; echo $1 >> $2/hooks.log\"]}"; }
  # A runtime may signal the container to go on and run poststart while the container
  # still runs its startContainer hook: poststart waits (at most 5 s) for that line.
  wait_start=""
  th_is_silo && wait_start="i=0; until grep -q startContainer $h/hooks.log || [ \$i -ge 50 ]; do sleep 0.1; i=\$((i+1)); done; "
  b=$(th_bundle b "$(share_filter)" \
    ".hooks.prestart = [$(hook prestart "$h")]" \
    ".hooks.createRuntime = [$(hook createRuntime "$h")]" \
    ".hooks.createContainer = [$(hook createContainer "$h")]" \
    ".hooks.startContainer = [$(hook startContainer /home)]" \
    ".hooks.poststart = [$(hook poststart "$h" "$wait_start")]" \
    ".hooks.poststop = [$(hook poststop "$h")]")
  th_args "$b" true
  run th_rt_detached create --bundle "$b" "$C"
  echo "create: $output"
  [ "$status" -eq 0 ]
  run th_rt start "$C"
  echo "start: $output"
  [ "$status" -eq 0 ]
  th_wait_for 50 th_status_is "$C" stopped
  run th_rt delete "$C"
  echo "delete: $output"
  [ "$status" -eq 0 ]
  echo "hooks.log:"
  cat "$h/hooks.log"
  got=$(cat "$h/hooks.log")
  spec_order=$(printf '%s\n' prestart createRuntime createContainer startContainer poststart poststop)
  # runc before 1.4 runs poststart in `create`, before startContainer (runc#1710, #5186).
  runc_order=$(printf '%s\n' prestart createRuntime createContainer poststart startContainer poststop)
  in_order=no
  [ "$got" = "$spec_order" ] && in_order=yes
  th_is_silo || { [ "$got" = "$runc_order" ] && in_order=yes; }
  [ "$in_order" = yes ]
  for k in prestart createRuntime createContainer startContainer poststart poststop; do
    jq -e --arg id "$C" '.id == $id' "$h/$k.json" || { echo "$k got: $(cat "$h/$k.json")"; return 1; }
  done
}

@test "a failing prestart hook makes create fail and leaves no container behind" {
  b=$(th_bundle b '.hooks.prestart = [{"path":"/bin/sh","args":["sh","-c","exit 1"]}]')
  th_args "$b" sleep 60
  run th_rt_detached create --bundle "$b" "$C"
  echo "$output"
  [ "$status" -ne 0 ]
  run th_rt state "$C"
  [ "$status" -ne 0 ]
  [ -z "$(th_rt list -q)" ]
}

@test "create on a bundle without config.json fails and names the file" {
  mkdir "$TH_DIR/empty"
  run th_rt_detached create --bundle "$TH_DIR/empty" "$C"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *config.json* ]]
  if th_is_silo; then
    [[ "$output" == *"$TH_DIR/empty/config.json"* ]]
  fi
  run th_rt state "$C"
  [ "$status" -ne 0 ]
}
