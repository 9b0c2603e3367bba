#!/usr/bin/env bats
# Bad create bodies against a real silod: every create option with a bad value answers
# dockerd's status code and message (checked against dockerd 20.10), wrong JSON types
# name the field as Go does, malformed bodies and wrong Content-Types are refused, a
# 20 MiB body is handled, a taken name is 409 and an unknown image 404; after each group
# the daemon still answers /_ping and has created nothing. One silod for the file, in a
# throwaway test host (see ../lib/daemon.bash).

load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() {
  daemon_require
  require_curl
}

# create BODY [CONTENT-TYPE]: POSTs BODY to /containers/create; sets CODE and MSG.
create() {
  local ct=${2:-application/json} out
  out=$(api -X POST -H "Content-Type: $ct" --data-binary "$1" -w '\n%{http_code}' /v1.41/containers/create)
  CODE=${out##*$'\n'}
  MSG=$(jq -r .message <<<"${out%$'\n'*}" 2>/dev/null || echo "${out%$'\n'*}")
}

# bad STATUS MESSAGE BODY: the create is refused with exactly this status and message.
bad() {
  create "$3"
  if [ "$CODE" != "$1" ] || [ "$MSG" != "$2" ]; then
    echo "body:     $3"
    echo "expected: $1 $2"
    echo "got:      $CODE $MSG"
    return 1
  fi
}

# The daemon still answers and no container was left behind by the refusals.
still_fine() {
  [ "$(api /_ping)" = OK ]
  [ "$(api '/containers/json?all=1' | jq length)" = 0 ]
}

H='{"Image":"busybox","HostConfig":'

@test "bad input: wrong JSON types name the Go field (400)" {
  bad 400 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64' "$H"'{"Memory":"x"}}'
  bad 400 'json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64' "$H"'{"Memory":1.5}}'
  bad 400 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type []string' '{"Image":"busybox","Env":"x"}'
  bad 400 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type string' '{"Image":"busybox","Cmd":5}'
  bad 400 'json: cannot unmarshal object into Go struct field ContainerConfigWrapper.Entrypoint of type string' '{"Image":"busybox","Entrypoint":{}}'
  bad 400 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty of type bool' '{"Image":"busybox","Tty":"yes"}'
  bad 400 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.OpenStdin of type bool' '{"Image":"busybox","OpenStdin":"yes"}'
  bad 400 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.User of type string' '{"Image":"busybox","User":0}'
  bad 400 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels of type string' '{"Image":"busybox","Labels":{"a":1}}'
  bad 400 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.HostConfig of type container.HostConfig' "$H"'"x"}'
  bad 400 'json: cannot unmarshal number into Go struct field RestartPolicy.HostConfig.RestartPolicy.Name of type string' "$H"'{"RestartPolicy":{"Name":5}}}'
  bad 400 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Privileged of type bool' "$H"'{"Privileged":"x"}}'
  bad 400 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.ReadonlyRootfs of type bool' "$H"'{"ReadonlyRootfs":"x"}}'
  bad 400 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Init of type bool' "$H"'{"Init":"x"}}'
  bad 400 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.StopTimeout of type int' '{"Image":"busybox","StopTimeout":"x"}'
  still_fine
}

@test "bad input: env, workdir, hostname, stop signal" {
  bad 400 'invalid environment variable: =x' '{"Image":"busybox","Env":["=x"]}'
  bad 400 "the working directory 'rel' is invalid, it needs to be an absolute path" '{"Image":"busybox","WorkingDir":"rel"}'
  bad 400 'Invalid signal: SIGFOO' '{"Image":"busybox","StopSignal":"SIGFOO"}'
  bad 400 'invalid hostname format: -bad' '{"Image":"busybox","Hostname":"-bad"}'
  still_fine
}

@test "bad input: memory, memory-swap, cpus, cpu-shares, cpuset, pids" {
  local n
  n=$(th_in_host nproc)
  bad 400 'Minimum memory limit allowed is 6MB' "$H"'{"Memory":1000}}'
  bad 400 'Minimum memoryswap limit should be larger than memory limit, see usage' "$H"'{"Memory":10000000,"MemorySwap":9000000}}'
  bad 400 'You should always set the Memory limit when using Memoryswap limit, see usage' "$H"'{"MemorySwap":9000000}}'
  bad 400 'Conflicting options: Nano CPUs and CPU Period cannot both be set' "$H"'{"NanoCpus":1000000000,"CpuPeriod":100000}}'
  bad 400 'Conflicting options: Nano CPUs and CPU Quota cannot both be set' "$H"'{"NanoCpus":1000000000,"CpuQuota":100000}}'
  bad 400 "Range of CPUs is from 0.01 to $n.00, as there are only $n CPUs available" "$H"'{"NanoCpus":100000000000}}'
  bad 400 'Invalid value -5 for cpu shares: must be 0 (the default) or 2 to 262144' "$H"'{"CpuShares":-5}}'
  bad 400 'Invalid value abc for cpuset cpus: invalid format: abc' "$H"'{"CpusetCpus":"abc"}}'
  create "$H"'{"CpusetCpus":"0-4095"}}'
  [ "$CODE" = 400 ] && [[ "$MSG" == "Requested CPUs are not available - requested 0-4095, available: "* ]]
  bad 400 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.PidsLimit of type int64' "$H"'{"PidsLimit":"x"}}'
  still_fine
}

@test "bad input: ulimits, capabilities, restart policy, log config, network mode" {
  bad 400 'invalid ulimit type: foo' "$H"'{"Ulimits":[{"Name":"foo","Soft":1,"Hard":2}]}}'
  bad 400 'ulimit soft limit must be less than or equal to hard limit: 10 > 2' "$H"'{"Ulimits":[{"Name":"nofile","Soft":10,"Hard":2}]}}'
  bad 400 'invalid CapAdd: unknown capability: "CAP_FOO"' "$H"'{"CapAdd":["FOO"]}}'
  bad 400 'invalid CapDrop: unknown capability: "CAP_BAR"' "$H"'{"CapDrop":["cap_bar"]}}'
  bad 400 "invalid restart policy 'sometimes'" "$H"'{"RestartPolicy":{"Name":"sometimes"}}}'
  bad 400 "maximum retry count cannot be used with restart policy 'always'" "$H"'{"RestartPolicy":{"Name":"always","MaximumRetryCount":3}}}'
  bad 400 'maximum retry count cannot be negative' "$H"'{"RestartPolicy":{"Name":"on-failure","MaximumRetryCount":-1}}}'
  bad 400 "can't create 'AutoRemove' container with restart policy" "$H"'{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}'
  bad 400 "unknown log opt 'foo' for json-file log driver" "$H"'{"LogConfig":{"Type":"json-file","Config":{"foo":"1"}}}}'
  bad 400 "failed to initialize logging driver: invalid size: 'abc'" "$H"'{"LogConfig":{"Type":"json-file","Config":{"max-size":"abc"}}}}'
  bad 400 'failed to initialize logging driver: max-file cannot be less than 1' "$H"'{"LogConfig":{"Type":"json-file","Config":{"max-file":"0"}}}}'
  bad 400 'error looking up logging plugin bogus: plugin "bogus" not found' "$H"'{"LogConfig":{"Type":"bogus"}}}'
  bad 404 'network foo not found' "$H"'{"NetworkMode":"foo"}}'
  bad 400 'invalid port specification: "70000"' "$H"'{"PortBindings":{"80/tcp":[{"HostPort":"70000"}]}}}'
  still_fine
}

@test "bad input: binds, mounts and tmpfs" {
  bad 400 "invalid volume specification: '/a:/b:/c:/d'" "$H"'{"Binds":["/a:/b:/c:/d"]}}'
  bad 400 "invalid volume specification: '/tmp:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute" "$H"'{"Binds":["/tmp:rel"]}}'
  bad 400 'invalid mode: xyz' "$H"'{"Binds":["/tmp:/b:xyz"]}}'
  bad 400 'invalid mount config for type "bind": bind source path does not exist: /nonexist' "$H"'{"Mounts":[{"Type":"bind","Source":"/nonexist","Target":"/x"}]}}'
  bad 400 'invalid mount config for type "bind": field Target must not be empty' "$H"'{"Mounts":[{"Type":"bind","Source":"/tmp"}]}}'
  bad 400 'invalid mount config for type "foo": mount type unknown' "$H"'{"Mounts":[{"Type":"foo","Source":"/tmp","Target":"/x"}]}}'
  bad 400 'invalid mount config for type "tmpfs": field Source must not be specified' "$H"'{"Mounts":[{"Type":"tmpfs","Source":"/tmp","Target":"/x"}]}}'
  bad 400 "invalid mount path: 'rel' mount path must be absolute" "$H"'{"Tmpfs":{"rel":""}}}'
  bad 400 'invalid tmpfs option ["weird"]' "$H"'{"Tmpfs":{"/x":"weird"}}}'
  still_fine
}

@test "bad input: malformed JSON, wrong Content-Type, a 20 MiB body" {
  create '{"Image":"busybox",'
  [ "$CODE" = 400 ]
  [[ "$MSG" == "invalid JSON: "* ]]
  create '[1]'
  [ "$CODE" = 400 ]
  create 'garbage'
  [ "$CODE" = 400 ]
  create '{"Image":"busybox"}' text/plain
  [ "$CODE" = 400 ]
  [ "$MSG" = "Content-Type specified (text/plain) must be 'application/json'" ]
  # 20 MiB: a JSON string that never ends.
  head -c $((20 << 20)) /dev/zero | tr '\0' a | sed 's/^/{"Image":"busybox","Labels":{"a":"/' >"$TH_DIR/big"
  out=$(api -X POST -H 'Content-Type: application/json' --data-binary "@$TH_DIR/big" -w '\n%{http_code}' /v1.41/containers/create)
  [ "${out##*$'\n'}" = 400 ]
  still_fine
}

@test "bad input: a name in use is 409, an unknown image 404" {
  out=$(api -X POST -H 'Content-Type: application/json' -d '{"Image":"busybox"}' -w '\n%{http_code}' '/v1.41/containers/create?name=taken')
  echo "$out"
  [ "${out##*$'\n'}" = 201 ]
  out=$(api -X POST -H 'Content-Type: application/json' -d '{"Image":"busybox"}' -w '\n%{http_code}' '/v1.41/containers/create?name=taken')
  echo "$out"
  [ "${out##*$'\n'}" = 409 ]
  [[ "$(jq -r .message <<<"${out%$'\n'*}")" == 'Conflict. The container name "/taken" is already in use by container '* ]]
  bad 404 'No such image: nosuchimage:latest' '{"Image":"nosuchimage"}'
  [ "$(api /_ping)" = OK ]
  api -X DELETE '/v1.41/containers/taken?force=1'
  [ "$(api '/containers/json?all=1' | jq length)" = 0 ]
}

@test "bad input: an accepted body shows Docker's zero values in inspect" {
  out=$(api -X POST -H 'Content-Type: application/json' -d '{"Image":"busybox","HostConfig":{"Memory":67108864}}' '/v1.41/containers/create?name=zero')
  echo "$out"
  run api /v1.41/containers/zero/json
  echo "$output"
  [ "$(jq -r '.Name, .Driver, .Platform, .State.Status, .State.StartedAt' <<<"$output" | tr '\n' ' ')" = "/zero overlay2 linux created 0001-01-01T00:00:00Z " ]
  [ "$(jq -c '.HostConfig | [.NetworkMode, .IpcMode, .ShmSize, .LogConfig.Type, .Memory, .MemorySwap, .PidsLimit, .ConsoleSize]' <<<"$output")" = '["default","private",67108864,"json-file",67108864,134217728,null,[0,0]]' ]
  [ "$(jq -c '.Config | [.Cmd, .Entrypoint, .Tty, .Labels, .Hostname == (.Hostname | .[0:12])]' <<<"$output")" = '[["sh"],null,false,{},true]' ]
  api -X DELETE '/v1.41/containers/zero?force=1'
}
