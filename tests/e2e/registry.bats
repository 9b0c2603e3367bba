#!/usr/bin/env bats
# docker pull, push and login through silod against a real registry: Debian's
# docker-registry (distribution 2.8) on 127.0.0.1:5000 INSIDE the file's test host (a
# network namespace with only loopback), so neither silod nor the registry can reach
# anything off the machine. The registry is started by pid with its own config and storage
# under TH_DIR and stopped by that pid in teardown_file. silod reads insecure-registries
# from its daemon.json. One silod for the file (tests/lib/daemon.bash).

load ../lib/daemon

REG=127.0.0.1:5000
REG_AUTH=127.0.0.1:5001

setup_file() {
  daemon_setup_file
  export RG_PID='' RG_AUTH_PID='' RG_SKIP=''
  [ -z "${DAEMON_SKIP:-}" ] && [ -z "${DAEMON_ERROR:-}" ] || return 0
  if ! command -v docker-registry >/dev/null; then
    export RG_SKIP="skipped, because docker-registry is not installed (apt-get install docker-registry)"
    return 0
  fi
  # The daemon again, with the registry in its daemon.json.
  stop_silod
  echo "{\"insecure-registries\": [\"$REG\", \"$REG_AUTH\"]}" >"$CONF"
  if ! start_silod >"$TH_DIR/start.err" 2>&1; then
    export DAEMON_ERROR="silod did not start with $CONF: $(cat "$TH_DIR/start.err")"
    return 0
  fi
  export SILOD_PID
  mkdir -p "$TH_DIR/registry"
  cat >"$TH_DIR/registry/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $TH_DIR/registry/data}, delete: {enabled: true}}
http: {addr: "$REG"}
EOF
  # A second registry that asks for a password (htpasswd, bcrypt): alice / secret.
  mkdir -p "$TH_DIR/registry-auth"
  python3 -c 'import crypt; print("alice:" + crypt.crypt("secret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
    >"$TH_DIR/registry-auth/htpasswd" 2>/dev/null || rm -f "$TH_DIR/registry-auth/htpasswd"
  cat >"$TH_DIR/registry-auth/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $TH_DIR/registry-auth/data}}
http: {addr: "$REG_AUTH"}
auth: {htpasswd: {realm: silo-test, path: $TH_DIR/registry-auth/htpasswd}}
EOF
  start_registry "$TH_DIR/registry" "$REG" RG_PID || return 0
  [ -s "$TH_DIR/registry-auth/htpasswd" ] || return 0
  start_registry "$TH_DIR/registry-auth" "$REG_AUTH" RG_AUTH_PID || return 0
}

# start_registry DIR ADDR PIDVAR: docker-registry with DIR/config.yml in the test host,
# its pid exported in PIDVAR; waits until /v2/ answers (a 401 counts).
start_registry() {
  local dir=$1 addr=$2 var=$3 pid i
  # nsenter execs the registry in place, so $! is the registry's own pid.
  nsenter --net="/run/netns/$TH_NS" docker-registry serve "$dir/config.yml" \
    >"$dir/log" 2>&1 </dev/null 3>&- &
  pid=$!
  export "$var=$pid"
  for ((i = 0; i < 100; i++)); do
    th_in_host curl -s -o /dev/null "http://$addr/v2/" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  export DAEMON_ERROR="docker-registry on $addr did not start: $(cat "$dir/log")"
  return 1
}

teardown_file() {
  local pid
  for pid in "${RG_PID:-}" "${RG_AUTH_PID:-}"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  daemon_teardown_file
}

require_auth_registry() {
  [ -n "${RG_AUTH_PID:-}" ] || skip "skipped, because python3's crypt module could not make a bcrypt htpasswd"
}

setup() {
  daemon_require
  [ -z "${RG_SKIP:-}" ] || skip "$RG_SKIP"
  require_shim
  require_curl
}

dk() { docker_cli "$@"; }

# The manifest digest the registry holds for REPO:TAG.
registry_digest() {
  th_in_host curl -sSI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REG/v2/$1/manifests/$2" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'
}

@test "registry: docker push, rmi, pull back (layers downloaded), run; RepoDigests is the pushed digest" {
  require_docker
  dk tag busybox "$REG/test/bb:1"
  run dk push "$REG/test/bb:1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"The push refers to repository [$REG/test/bb]"* ]]
  [[ "$output" == *"1: digest: sha256:"* ]]
  local pushed
  pushed=$(sed -n 's/.*1: digest: \(sha256:[0-9a-f]*\) size: [0-9]*.*/\1/p' <<<"$output")
  [ -n "$pushed" ]
  [ "$(registry_digest test/bb 1)" = "$pushed" ]

  # Delete the image with every name, so its blobs and layers go and the pull must
  # download them again.
  local id
  id=$(dk image inspect --format '{{.Id}}' "$REG/test/bb:1")
  dk rmi -f "$id"
  [ -z "$(ls "$ROOT/image/blobs/sha256" | grep "${id#sha256:}" || true)" ]
  run dk image inspect "$REG/test/bb:1"
  [ "$status" -ne 0 ]

  run dk pull "$REG/test/bb:1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Pull complete"* ]]
  [[ "$output" == *"Digest: $pushed"* ]]
  [[ "$output" == *"Status: Downloaded newer image for $REG/test/bb:1"* ]]
  [ "$(dk image inspect --format '{{.Id}}' "$REG/test/bb:1")" = "$id" ]
  [ "$(dk image inspect --format '{{index .RepoDigests 0}}' "$REG/test/bb:1")" = "$REG/test/bb@$pushed" ]
  # The rest of the file (and other images) keep their busybox.
  dk tag "$REG/test/bb:1" busybox:latest

  run dk run --rm --network none "$REG/test/bb:1" echo pulled-ok
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = pulled-ok ]

  # Pulled again: nothing to download.
  run dk pull "$REG/test/bb:1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Image is up to date for $REG/test/bb:1"* ]]
}

@test "registry: the API streams dockerd's JSON progress messages for a pull" {
  require_docker
  dk tag busybox "$REG/test/api:1"
  dk push "$REG/test/api:1" >/dev/null
  dk rmi "$REG/test/api:1" >/dev/null
  run api -X POST "/images/create?fromImage=$REG/test/api&tag=1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$(head -1 <<<"$output")" == '{"status":"Pulling from test/api","id":"1"}' ]]
  grep -q '^{"status":"Already exists","progressDetail":{},"id":"[0-9a-f]\{12\}"}$' <<<"$output"
  grep -q '^{"status":"Digest: sha256:[0-9a-f]\{64\}"}$' <<<"$output"
  [[ "$(tail -1 <<<"$output")" == "{\"status\":\"Status: Downloaded newer image for $REG/test/api:1\"}" ]]
  # Again: the tag is there and points at the same image.
  run api -X POST "/images/create?fromImage=$REG/test/api&tag=1"
  echo "$output"
  [ "$(wc -l <<<"$output")" -eq 3 ]
  [[ "$(tail -1 <<<"$output")" == "{\"status\":\"Status: Image is up to date for $REG/test/api:1\"}" ]]
  # With the image gone, the layer is downloaded: byte counts and dockerd's progress bar.
  local id
  id=$(dk image inspect --format '{{.Id}}' "$REG/test/api:1")
  dk rmi -f "$id" >/dev/null
  run api -X POST "/images/create?fromImage=$REG/test/api&tag=1"
  echo "$output"
  grep -q '^{"status":"Pulling fs layer","progressDetail":{},"id":"[0-9a-f]\{12\}"}$' <<<"$output"
  grep -q '^{"status":"Downloading","progressDetail":{"current":[0-9]*,"total":[0-9]*},"progress":"\[=*\\u003e *\] *[0-9.]*[kM]\?B/[0-9.]*[kM]B","id":"[0-9a-f]\{12\}"}$' <<<"$output"
  grep -q '^{"status":"Download complete","progressDetail":{},"id":"[0-9a-f]\{12\}"}$' <<<"$output"
  grep -q '^{"status":"Pull complete","progressDetail":{},"id":"[0-9a-f]\{12\}"}$' <<<"$output"
  dk tag "$REG/test/api:1" busybox:latest
}

@test "registry: a second push says Layer already exists" {
  require_docker
  dk tag busybox "$REG/test/again:1"
  run dk push "$REG/test/again:1"
  [ "$status" -eq 0 ]
  run dk push "$REG/test/again:1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Layer already exists"* ]]
  [[ "$output" != *"Pushed"* ]]
}

@test "registry: pulling an unknown tag is docker's manifest unknown error" {
  require_docker
  run dk pull "$REG/test/bb:nope"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"manifest for $REG/test/bb:nope not found: manifest unknown"* ]]
  run api -s -o /dev/null -w '%{http_code}' -X POST "/images/create?fromImage=$REG/test/bb&tag=nope"
  [ "$output" = 404 ]
}

@test "registry: pushing an image that does not exist names it" {
  require_docker
  run dk push "$REG/test/none:1"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"An image does not exist locally with the tag: $REG/test/none"* ]]
}

@test "registry: silo push and silo pull" {
  require_silo_cli
  silo_cli tag busybox "$REG/test/silo:2"
  run silo_cli push "$REG/test/silo:2"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"2: digest: sha256:"* ]]
  local pushed
  pushed=$(sed -n 's/.*2: digest: \(sha256:[0-9a-f]*\) size: [0-9]*.*/\1/p' <<<"$output")
  [ "$(registry_digest test/silo 2)" = "$pushed" ]
  silo_cli rmi "$REG/test/silo:2"
  run silo_cli pull "$REG/test/silo:2"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Digest: $pushed"* ]]
  [[ "$output" == *"$REG/test/silo:2"* ]]
  run silo_cli image inspect --format '{{index .RepoDigests 0}}' "$REG/test/silo:2"
  [[ "$output" == *"@sha256:"* ]]
  # An OCI save of a pulled image keeps its manifest, so its digest.
  silo_cli save --format oci-archive -o "$TH_DIR/pulled-oci.tar" "$REG/test/silo:2"
  [ "$(tar -xOf "$TH_DIR/pulled-oci.tar" index.json | jq -r '.manifests[0].digest')" = "$pushed" ]
  run silo_cli pull "$REG/test/silo:nope"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"manifest unknown"* ]]
}

@test "registry: silo push -a pushes every tag of a repository; rmi both, pull both back" {
  require_silo_cli
  silo_cli tag busybox "$REG/test/all:1"
  silo_cli tag busybox "$REG/test/all:2"
  run silo_cli push -a "$REG/test/all"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c '^The push refers to repository' <<<"$output")" -eq 1 ]
  [ "${lines[0]}" = "The push refers to repository [$REG/test/all]" ]
  local d1 d2 n1
  d1=$(sed -n 's/^1: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' <<<"$output")
  d2=$(sed -n 's/^2: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' <<<"$output")
  [ -n "$d1" ] && [ -n "$d2" ]
  [ "$(registry_digest test/all 1)" = "$d1" ]
  [ "$(registry_digest test/all 2)" = "$d2" ]
  # Tag by tag, in order: 1's layers and digest, then 2's layers (there already) and digest.
  n1=$(grep -n '^1: digest:' <<<"$output" | cut -d: -f1)
  [ "$(tail -n +"$((n1 + 1))" <<<"$output" | grep -c 'Layer already exists')" -ge 1 ]
  [[ "$(tail -1 <<<"$output")" == "2: digest: $d2 size: "* ]]
  silo_cli rmi "$REG/test/all:1" "$REG/test/all:2"
  run silo_cli pull "$REG/test/all:1"
  [ "$status" -eq 0 ]
  run silo_cli pull "$REG/test/all:2"
  [ "$status" -eq 0 ]
  [ "$(silo_cli image inspect --format '{{.Id}}' "$REG/test/all:2")" = \
    "$(silo_cli image inspect --format '{{.Id}}' busybox)" ]
  run silo_cli run --rm --network none "$REG/test/all:1" echo all-ok
  [ "$output" = all-ok ]
  # Through the API an empty tag is every tag: a digest line and an aux message for each.
  run api -X POST "/images/$REG/test/all/push"
  echo "$output"
  [ "$(grep -c '"aux":{"Tag":"[12]","Digest":"sha256:' <<<"$output")" -eq 2 ]
  # As the docker CLI: a tag with -a is refused; a bare name without -a is :latest.
  run silo_cli push -a "$REG/test/all:1"
  [ "$status" -eq 1 ]
  [ "$output" = "tag can't be used with --all-tags/-a" ]
  run silo_cli push "$REG/test/all"
  echo "$output"
  [ "$status" -ne 0 ]
  [ "${lines[0]}" = "Using default tag: latest" ]
  [[ "$output" == *"tag does not exist: $REG/test/all:latest"* ]]
  run silo_cli push -a "$REG/test/nothing"
  [ "$status" -ne 0 ]
  [[ "$output" == *"An image does not exist locally with the tag: $REG/test/nothing"* ]]
}

@test "registry: docker push -a pushes each tag of a repository (two images); rmi, pull both back" {
  require_docker
  dk tag busybox "$REG/test/dkall:a"
  dk run --name dkall-c --network none busybox sh -c 'echo second > /x'
  dk commit dkall-c "$REG/test/dkall:b"
  dk rm dkall-c
  run dk push -a "$REG/test/dkall"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c 'The push refers to repository' <<<"$output")" -eq 1 ]
  local da db
  da=$(sed -n 's/^a: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' <<<"$output")
  db=$(sed -n 's/^b: digest: \(sha256:[0-9a-f]\{64\}\) size: [0-9]*$/\1/p' <<<"$output")
  [ -n "$da" ] && [ -n "$db" ] && [ "$da" != "$db" ]
  [ "$(registry_digest test/dkall a)" = "$da" ]
  [ "$(registry_digest test/dkall b)" = "$db" ]
  run dk push -a "$REG/test/dkall:a"
  [ "$status" -ne 0 ]
  [[ "$output" == *"tag can't be used with --all-tags/-a"* ]]
  dk rmi "$REG/test/dkall:a" "$REG/test/dkall:b"
  dk pull "$REG/test/dkall:a"
  dk pull "$REG/test/dkall:b"
  [ "$(dk image inspect --format '{{index .RepoDigests 0}}' "$REG/test/dkall:b")" = "$REG/test/dkall@$db" ]
  run dk run --rm --network none "$REG/test/dkall:b" cat /x
  [ "$output" = second ]
}

@test "registry: silo run pulls a missing image through the progress stream" {
  require_silo_cli
  require_docker
  dk tag busybox "$REG/test/run:1"
  dk push "$REG/test/run:1" >/dev/null
  dk rmi "$REG/test/run:1"
  run silo_cli run --rm --network none "$REG/test/run:1" echo run-ok
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Unable to find image '$REG/test/run:1' locally"* ]]
  [[ "$output" == *"run-ok"* ]]
}

@test "registry: login checks credentials against the registry (no auth: Login Succeeded)" {
  run api -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"u\",\"password\":\"p\",\"serveraddress\":\"$REG\"}" /auth
  echo "$output"
  [ "$output" = '{"IdentityToken":"","Status":"Login Succeeded"}' ]
}

@test "registry: silo login keeps the credentials in ~/.silo/config.json (0600), logout removes them" {
  require_silo_cli
  local home="$TH_DIR/home"
  mkdir -p "$home"
  run env HOME="$home" timeout 60 nsenter --net="/run/netns/$TH_NS" "$SILO_CLI" -H "unix://$SOCK" login -u alice -p secret "$REG"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Login Succeeded"* ]]
  [ "$(stat -c %a "$home/.silo/config.json")" = 600 ]
  [ "$(jq -r --arg r "$REG" '.auths[$r].auth' "$home/.silo/config.json")" = "$(printf alice:secret | base64)" ]
  # The credentials go with a push (this registry does not check them).
  silo_cli tag busybox "$REG/test/auth:1"
  run env HOME="$home" timeout 60 nsenter --net="/run/netns/$TH_NS" "$SILO_CLI" -H "unix://$SOCK" push "$REG/test/auth:1"
  [ "$status" -eq 0 ]
  run env HOME="$home" timeout 60 nsenter --net="/run/netns/$TH_NS" "$SILO_CLI" -H "unix://$SOCK" logout "$REG"
  [ "$output" = "Removing login credentials for $REG" ]
  [ "$(jq -r --arg r "$REG" '.auths[$r] // "gone"' "$home/.silo/config.json")" = gone ]
}

@test "registry: a registry that asks for a password: login refused, then accepted; push with and without credentials" {
  require_auth_registry
  require_docker
  run dk login -u alice -p wrong "$REG_AUTH"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"unauthorized: incorrect username or password"* ]]
  dk tag busybox "$REG_AUTH/test/private:1"
  run dk push "$REG_AUTH/test/private:1"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"$REG_AUTH/test/private"* ]]
  run dk login -u alice -p secret "$REG_AUTH"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Login Succeeded"* ]]
  # The docker CLI keeps the credentials and sends them as X-Registry-Auth.
  run dk push "$REG_AUTH/test/private:1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"1: digest: sha256:"* ]]
  dk rmi "$REG_AUTH/test/private:1"
  run dk pull "$REG_AUTH/test/private:1"
  echo "$output"
  [ "$status" -eq 0 ]
  dk logout "$REG_AUTH"
  # silo run pulls a missing image with the credentials silo login kept (and fails
  # without them).
  require_silo_cli
  local home="$TH_DIR/home-run"
  mkdir -p "$home"
  dk rmi "$REG_AUTH/test/private:1"
  srun() { env HOME="$home" timeout 60 nsenter --net="/run/netns/$TH_NS" "$SILO_CLI" -H "unix://$SOCK" "$@"; }
  run srun run --rm --network none "$REG_AUTH/test/private:1" echo pulled
  echo "$output"
  [ "$status" -ne 0 ]
  run srun login -u alice -p secret "$REG_AUTH"
  [ "$status" -eq 0 ]
  run srun run --rm --network none "$REG_AUTH/test/private:1" echo pulled
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = pulled ]
  [[ "$output" == *"Unable to find image '$REG_AUTH/test/private:1' locally"* ]]
}

@test "registry: pulling for another platform is refused with the platforms named" {
  require_docker
  dk tag busybox "$REG/test/plat:1"
  dk push "$REG/test/plat:1" >/dev/null
  run dk pull --platform linux/s390x "$REG/test/plat:1"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"does not match the specified platform: wanted linux/s390x, actual: linux/"* ]]
}

@test "registry: an image built by silo build is pushed, removed, pulled back and run; the digests match" {
  require_silo_cli
  local ctx=$TH_DIR/buildpush
  mkdir -p "$ctx"
  echo "from the registry" >"$ctx/msg"
  cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
COPY msg /msg
RUN cat /msg > /copied
CMD ["cat", "/copied"]
DF
  run silo_cli build -t "$REG/test/built:1" "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  local id
  id=$(silo_cli image inspect --format '{{.Id}}' "$REG/test/built:1")
  run silo_cli push "$REG/test/built:1"
  echo "$output"
  [ "$status" -eq 0 ]
  local pushed
  pushed=$(sed -n 's/.*1: digest: \(sha256:[0-9a-f]*\) size: [0-9]*.*/\1/p' <<<"$output")
  [ -n "$pushed" ]
  [ "$(registry_digest test/built 1)" = "$pushed" ]

  # Gone locally, with its intermediate images and the layers only it had.
  silo_cli rmi "$REG/test/built:1"
  run silo_cli image inspect "$REG/test/built:1"
  [ "$status" -ne 0 ]
  [ -z "$(ls "$ROOT/image/blobs/sha256" | grep "${id#sha256:}" || true)" ]

  run silo_cli pull "$REG/test/built:1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Digest: $pushed"* ]]
  [ "$(silo_cli image inspect --format '{{.Id}}' "$REG/test/built:1")" = "$id" ]
  [ "$(silo_cli image inspect --format '{{index .RepoDigests 0}}' "$REG/test/built:1")" = "$REG/test/built@$pushed" ]
  run silo_cli run --rm --network none "$REG/test/built:1"
  [ "$output" = "from the registry" ]
  silo_cli rmi "$REG/test/built:1" >/dev/null
}

@test "registry: the docker CLI builds, pushes, removes, pulls, saves, loads and lists the same image" {
  require_docker
  local ctx=$TH_DIR/dkbuild
  mkdir -p "$ctx"
  printf 'FROM busybox\nRUN echo docker-built > /m\nCMD ["cat", "/m"]\n' >"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 run docker_cli build -t "$REG/test/dk:1" "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  local id pushed
  id=$(dk image inspect --format '{{.Id}}' "$REG/test/dk:1")
  run dk push "$REG/test/dk:1"
  [ "$status" -eq 0 ]
  pushed=$(sed -n 's/.*1: digest: \(sha256:[0-9a-f]*\) size: [0-9]*.*/\1/p' <<<"$output")
  [ "$(registry_digest test/dk 1)" = "$pushed" ]
  dk rmi "$REG/test/dk:1"
  run dk pull "$REG/test/dk:1"
  [ "$status" -eq 0 ]
  [ "$(dk image inspect --format '{{.Id}}' "$REG/test/dk:1")" = "$id" ]
  dk save -o "$TH_DIR/dk.tar" "$REG/test/dk:1"
  dk rmi "$REG/test/dk:1"
  run dk load -i "$TH_DIR/dk.tar"
  echo "$output"
  [[ "$output" == *"Loaded image: $REG/test/dk:1"* ]]
  run dk images --format '{{.Repository}}:{{.Tag}} {{.ID}}' "$REG/test/dk"
  [ "$output" = "$REG/test/dk:1 ${id:7:12}" ]
  run dk run --rm --network none "$REG/test/dk:1"
  [ "$output" = docker-built ]
  dk rmi "$REG/test/dk:1" >/dev/null
}
