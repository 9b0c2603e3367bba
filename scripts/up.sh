#!/usr/bin/env bash
# `make up`: after deps and build, runs a first container from the busybox seed with
# silo-runc, inside a throwaway network namespace, and removes it again.
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
