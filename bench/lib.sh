# Shared by the bench scripts (sourced).

# bench_delete_all RUNTIME STATE NS: force-deletes every container under --root STATE,
# inside network namespace NS. Ids come from the runtime's own list and from its state
# dir (one dir a container in runc), so half-created ones go too.
bench_delete_all() {
  local rt=$1 st=$2 ns=$3 id
  [ -d "$st" ] || return 0
  for id in $("$rt" --root "$st" list -q 2>/dev/null) "$st"/*; do
    id=${id##*/}
    [ "$id" != "*" ] || continue
    nsenter --net="/run/netns/$ns" "$rt" --root "$st" delete --force "$id" >/dev/null 2>&1
  done
}

# bench_netns NS: makes the throwaway network namespace NS with only lo, up.
bench_netns() {
  ip netns add "$1" || return 1
  ip -n "$1" link set lo up
}

# bench_preflight RUNTIME ROOTFS: exits the bench — 0 with "skipped, because …" when not
# root, 1 with an error when the runtime, the rootfs or a tool is missing.
bench_preflight() {
  [ "$(id -u)" = 0 ] || { echo "skipped, because this bench needs root"; exit 0; }
  [ -x "$1" ] || { echo "error: $1 is not built (make build)" >&2; exit 1; }
  [ -x "$2/bin/busybox" ] || { echo "error: busybox rootfs missing at $2 (make rootfs)" >&2; exit 1; }
  local t
  for t in ip nsenter jq; do command -v $t >/dev/null || { echo "error: $t is not installed" >&2; exit 1; }; done
}
