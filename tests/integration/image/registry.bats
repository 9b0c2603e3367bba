#!/usr/bin/env bats
# The registry client against a real registry: Debian's docker-registry (distribution 2.8),
# started by each test as a process it owns, with its own config and storage in a scratch
# dir, listening on 127.0.0.1:5000 inside a throwaway network namespace that has only a
# loopback, so neither the registry nor the client can reach anything off the machine.
# Driven through tests/tools/silo-test-registry (layer diff + config + manifest, push, pull).

: "${SILO_BUILD:=$(cd "$BATS_TEST_DIRNAME/../../../build" && pwd)}"
REG_TOOL=${SILO_TEST_REGISTRY:-$SILO_BUILD/tests/tools/silo-test-registry}

setup() {
  [ "$(id -u)" = 0 ] || skip "skipped, because this test needs root (network namespaces)"
  command -v ip >/dev/null || skip "skipped, because iproute2 (ip) is not installed"
  command -v nsenter >/dev/null || skip "skipped, because nsenter (util-linux) is not installed"
  command -v docker-registry >/dev/null ||
    skip "skipped, because docker-registry is not installed (apt-get install docker-registry)"
  command -v curl >/dev/null || skip "skipped, because curl is not installed"
  command -v busybox >/dev/null || skip "skipped, because busybox is not installed"
  [ -x "$REG_TOOL" ] || skip "skipped, because $REG_TOOL is not built (cmake --build build --target silo-test-registry)"
  RG_DIR=$(mktemp -d /tmp/silo-rg.XXXXXX)
  RG_NS="silo-rg-$$-${BATS_TEST_NUMBER}"
  RG_PID=
  ip netns add "$RG_NS"
  ip -n "$RG_NS" link set lo up
}

# Removes everything the test made, also when it failed: the registry (by the pid it
# started), the namespace and the scratch dir.
teardown() {
  if [ -n "${RG_PID:-}" ]; then
    kill "$RG_PID" 2>/dev/null || true
    wait "$RG_PID" 2>/dev/null || true
  fi
  [ -n "${RG_NS:-}" ] && ip netns delete "$RG_NS" 2>/dev/null || true
  [ -n "${RG_DIR:-}" ] && rm -rf "$RG_DIR"
}

in_ns() { timeout 60 nsenter --net="/run/netns/$RG_NS" "$@"; }
reg() { in_ns "$REG_TOOL" "$@"; }

# Starts the registry with plain HTTP, or TLS when given "tls" (certificate for
# registry.silo.test and 127.0.0.1, signed by a CA the test makes), and waits until /v2/
# answers.
start_registry() {
  local tls=${1:-} scheme=http
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage: {filesystem: {rootdirectory: $RG_DIR/data}, delete: {enabled: true}}"
    echo "http:"
    echo "  addr: 127.0.0.1:5000"
    if [ "$tls" = tls ]; then
      echo "  tls: {certificate: $RG_DIR/server.crt, key: $RG_DIR/server.key}"
    fi
  } >"$RG_DIR/config.yml"
  if [ "$tls" = tls ]; then
    make_certs
    scheme=https
  fi
  # nsenter execs the registry in place, so $! is the registry's own pid.
  nsenter --net="/run/netns/$RG_NS" docker-registry serve "$RG_DIR/config.yml" \
    >"$RG_DIR/registry.log" 2>&1 </dev/null &
  RG_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    in_ns curl -sk -o /dev/null "$scheme://127.0.0.1:5000/v2/" && return 0
    kill -0 "$RG_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "docker-registry did not start:" >&2
  cat "$RG_DIR/registry.log" >&2
  return 1
}

make_certs() {
  command -v openssl >/dev/null || skip "skipped, because openssl is not installed"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=silo test CA" \
    -keyout "$RG_DIR/ca.key" -out "$RG_DIR/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=registry.silo.test" \
    -keyout "$RG_DIR/server.key" -out "$RG_DIR/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:registry.silo.test,IP:127.0.0.1\n' >"$RG_DIR/san.ext"
  openssl x509 -req -in "$RG_DIR/server.csr" -CA "$RG_DIR/ca.crt" -CAkey "$RG_DIR/ca.key" \
    -CAcreateserial -days 1 -extfile "$RG_DIR/san.ext" -out "$RG_DIR/server.crt" 2>/dev/null
}

# A small rootfs: busybox, a shell link, a hard link, an empty dir, a file with odd mode.
make_rootfs() {
  local r=$RG_DIR/rootfs
  mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/var/empty"
  cp "$(command -v busybox)" "$r/bin/busybox"
  ln -s busybox "$r/bin/sh"
  ln "$r/bin/busybox" "$r/bin/ls"
  echo silo >"$r/etc/hostname"
  chmod 1777 "$r/tmp"
  printf 'secret\n' >"$r/etc/shadow"
  chmod 0600 "$r/etc/shadow"
}

# "field" of the tool's first output line: manifest, layer, diff_id.
field() { awk -v k="$1" 'NR == 1 { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$2"; }

@test "an image made from local files is pushed to an http registry and pulled back identical" {
  start_registry
  make_rootfs
  run reg push "$RG_DIR/rootfs" 127.0.0.1:5000/silo/busybox:latest --store "$RG_DIR/s1"
  echo "$output"; [ "$status" -eq 0 ]
  pushed=$output
  run reg pull 127.0.0.1:5000/silo/busybox:latest --store "$RG_DIR/s2" --unpack "$RG_DIR/out"
  echo "$output"; [ "$status" -eq 0 ]
  [ "$(field manifest "$output")" = "$(field manifest "$pushed")" ]
  [[ "$output" == *"layer $(field layer "$pushed") diff_id $(field diff_id "$pushed")"* ]]
  # The fresh store holds exactly manifest, config and layer, each under its own digest.
  [ "$(ls "$RG_DIR/s2/blobs/sha256" | wc -l)" -eq 3 ]
  for f in "$RG_DIR"/s2/blobs/sha256/*; do
    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(basename "$f")" ]
  done
  diff -r --no-dereference "$RG_DIR/rootfs" "$RG_DIR/out"
  [ "$(stat -c %a "$RG_DIR/out/tmp")" = 1777 ]
  [ "$(stat -c %a "$RG_DIR/out/etc/shadow")" = 600 ]
  [ "$(stat -c %i "$RG_DIR/out/bin/ls")" = "$(stat -c %i "$RG_DIR/out/bin/busybox")" ]
  # The registry itself reports the same manifest digest.
  run in_ns curl -s -o /dev/null -D - -H "Accept: application/vnd.oci.image.manifest.v1+json" \
    http://127.0.0.1:5000/v2/silo/busybox/manifests/latest
  [[ "${output,,}" == *"docker-content-digest: $(field manifest "$pushed")"* ]]
}

@test "a second repository gets the layer by cross-repository mount and a pull by digest works" {
  start_registry
  make_rootfs
  run reg push "$RG_DIR/rootfs" 127.0.0.1:5000/app:v1 --store "$RG_DIR/s1"
  [ "$status" -eq 0 ]
  digest=$(field manifest "$output")
  run reg push "$RG_DIR/rootfs" 127.0.0.1:5000/copy:v1 --store "$RG_DIR/s1" --mount-from app
  echo "$output"; [ "$status" -eq 0 ]
  grep -q 'POST /v2/copy/blobs/uploads/?mount=sha256%3A[0-9a-f]*&from=app HTTP/1.1" 201' "$RG_DIR/registry.log"
  run reg pull "127.0.0.1:5000/copy@$digest" --store "$RG_DIR/s2"
  echo "$output"; [ "$status" -eq 0 ]
  [ "$(field manifest "$output")" = "$digest" ]
}

@test "unknown tags and repositories are reported as docker does" {
  start_registry
  run reg pull 127.0.0.1:5000/nope --store "$RG_DIR/s2"
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"manifest for 127.0.0.1:5000/nope:latest not found: manifest unknown: manifest unknown"* ]]
  make_rootfs
  reg push "$RG_DIR/rootfs" 127.0.0.1:5000/app:v1 --store "$RG_DIR/s1"
  run reg pull 127.0.0.1:5000/app:v2 --store "$RG_DIR/s2"
  [ "$status" -eq 1 ]
  [[ "$output" == *"manifest for 127.0.0.1:5000/app:v2 not found"* ]]
}

@test "an http registry under a name that is not insecure is refused with what to do" {
  start_registry
  run reg pull registry.silo.test:5000/app:v1 --store "$RG_DIR/s2" \
    --resolve registry.silo.test:5000:127.0.0.1
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"server gave HTTP response to HTTPS client"* ]]
  [[ "$output" == *'add "registry.silo.test:5000" to insecure-registries'* ]]
  # Listed as insecure, the same name works.
  make_rootfs
  run reg push "$RG_DIR/rootfs" registry.silo.test:5000/app:v1 --store "$RG_DIR/s1" \
    --resolve registry.silo.test:5000:127.0.0.1 --insecure registry.silo.test:5000
  echo "$output"; [ "$status" -eq 0 ]
}

@test "a TLS registry with a self-signed CA is used when the client trusts that CA, refused otherwise" {
  start_registry tls
  make_rootfs
  local name=registry.silo.test:5000
  run reg push "$RG_DIR/rootfs" $name/secure/app:v1 --store "$RG_DIR/s1" \
    --resolve $name:127.0.0.1
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"TLS certificate of $name is not trusted"* ]]
  [[ "$output" == *"certs.d/$name/ca.crt"* ]]
  # The refused attempt shows as a handshake error in the registry's log; count them so the
  # trusted run below can be shown to add none (no plain HTTP, no failed TLS).
  handshake_errors=$(grep -c 'TLS handshake error' "$RG_DIR/registry.log" || true)
  run reg push "$RG_DIR/rootfs" $name/secure/app:v1 --store "$RG_DIR/s1" \
    --resolve $name:127.0.0.1 --ca "$name=$RG_DIR/ca.crt"
  echo "$output"; [ "$status" -eq 0 ]
  pushed=$output
  run reg pull $name/secure/app:v1 --store "$RG_DIR/s2" --unpack "$RG_DIR/out" \
    --resolve $name:127.0.0.1 --ca "$name=$RG_DIR/ca.crt"
  echo "$output"; [ "$status" -eq 0 ]
  [ "$(field manifest "$output")" = "$(field manifest "$pushed")" ]
  diff -r --no-dereference "$RG_DIR/rootfs" "$RG_DIR/out"
  [ "$(grep -c 'TLS handshake error' "$RG_DIR/registry.log" || true)" = "$handshake_errors" ]
  grep -q '"PUT /v2/secure/app/manifests/v1 HTTP/[0-9.]*" 201' "$RG_DIR/registry.log"
}
