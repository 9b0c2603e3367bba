#!/usr/bin/env bash
# `make up`: after deps and build, runs a first container from the busybox seed with
# silo-runc, inside a throwaway network namespace, and removes it again; then starts
# silod on its embedded defaults (unless one already answers on its socket) and runs a
# first container through it with `silo run --rm`.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$(mktemp -d /tmp/silo-up.XXXXXX)
ns=silo-up-$$
state=$bundle/state
cleanup() {
  [ -d "$state" ] && "$build/silo-runc" --root "$state" delete --force silo-up >/dev/null 2>&1 || true
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$bundle"
}
trap cleanup EXIT
ln -s "$build/rootfs/busybox" "$bundle/rootfs"
"$build/silo-runc" spec --bundle "$bundle"
# A first container: not a terminal, prints who and where it is.
jq '.process.terminal=false | .process.args=["sh","-c","echo hello from $(hostname): pid $$, network interfaces: $(ls /sys/class/net)"]' \
  "$bundle/config.json" >"$bundle/config.tmp" && mv "$bundle/config.tmp" "$bundle/config.json"
ip netns add "$ns"
# nsenter --net, not `ip netns exec`: the latter mounts a fresh /sys, hiding the cgroups.
nsenter --net="/run/netns/$ns" "$build/silo-runc" --root "$state" run --bundle "$bundle" silo-up
echo "up: silo-runc ran a first container from $build/rootfs/busybox"

# The daemon, on its embedded defaults: /var/lib/silo, /run/silo, unix:///run/silo/silo.sock.
sock=/run/silo/silo.sock
if ! "$build/silo" -H "unix://$sock" version >/dev/null 2>&1; then
  mkdir -p /run/silo
  nohup "$build/silod" >/run/silo/silod.log 2>&1 </dev/null &
  echo "up: started silod (pid $!), log /run/silo/silod.log"
  for _ in $(seq 100); do
    "$build/silo" -H "unix://$sock" version >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
"$build/silo" -H "unix://$sock" run --rm busybox echo "hello from a first silod container"
echo "up: silod answers on unix://$sock; try: $build/silo run -it busybox sh"
