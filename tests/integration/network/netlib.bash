# Shared by the network suites: a throwaway "test host" namespace, "container" namespaces
# and a "physical network" namespace, all removed in teardown (also after a failure),
# and the silo-test-net driver. Source it, then call nt_setup / nt_teardown.

: "${SILO_BUILD:=$(cd "$BATS_TEST_DIRNAME/../../../build" && pwd)}"
NET_TOOL=${SILO_TEST_NET:-$SILO_BUILD/tests/tools/silo-test-net}

nt_setup() {
  [ "$(id -u)" = 0 ] || skip "skipped, because this test needs root (network namespaces, netlink, nftables)"
  command -v ip >/dev/null || skip "skipped, because iproute2 (ip) is not installed"
  command -v nsenter >/dev/null || skip "skipped, because nsenter (util-linux) is not installed"
  command -v nft >/dev/null || skip "skipped, because nft (nftables) is not installed"
  command -v busybox >/dev/null || skip "skipped, because busybox (ping, httpd, wget) is not installed"
  [ -x "$NET_TOOL" ] || skip "skipped, because $NET_TOOL is not built (cmake --build build --target silo-test-net)"
  NT_DIR=$(mktemp -d /tmp/silo-nt.XXXXXX)
  NT_PREFIX="silo-nt-$$-${BATS_TEST_NUMBER}"
  NT_HOST="$NT_PREFIX-host"
  NT_NETNS=("$NT_HOST")
  NT_PIDS=()
  ip netns add "$NT_HOST"
  ip -n "$NT_HOST" link set lo up
}

# Processes by pid, then the namespaces (which takes their links and tables with them).
nt_teardown() {
  local pid ns
  for pid in "${NT_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${NT_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "${NT_NETNS[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
  [ -n "${NT_DIR:-}" ] && rm -rf "$NT_DIR"
}

# "Container" namespaces NAME... (prefixed), remembered for teardown. Not in $(...).
nt_container() {
  local n
  for n in "$@"; do
    ip netns add "$NT_PREFIX-$n" || return 1
    NT_NETNS+=("$NT_PREFIX-$n")
    ip -n "$NT_PREFIX-$n" link set lo up
  done
}
ctr_path() { echo "/run/netns/$NT_PREFIX-$1"; }

# The "physical network": namespace phys, joined to the test host by a veth pair whose
# host end is HOST_IF; phys's end is eth0 with address PHYS_ADDR (a prefix).
nt_phys() {
  local host_if=$1 phys_addr=$2
  ip netns add "$NT_PREFIX-phys" || return 1
  NT_NETNS+=("$NT_PREFIX-phys")
  ip -n "$NT_PREFIX-phys" link set lo up
  ip -n "$NT_HOST" link add "$host_if" type veth peer name eth0 netns "$NT_PREFIX-phys"
  ip -n "$NT_PREFIX-phys" addr add "$phys_addr" dev eth0
  ip -n "$NT_PREFIX-phys" link set eth0 up
  ip -n "$NT_HOST" link set "$host_if" up
}

net() { "$NET_TOOL" "$NT_DIR/state.json" "/run/netns/$NT_HOST" "$@"; }
# Bounded by timeout: busybox 1.35's wget -T crashes, so no tool here sets its own.
in_host() { timeout 20 nsenter --net="/run/netns/$NT_HOST" "$@"; }
in_ctr() { local n=$1; shift; timeout 20 nsenter --net="/run/netns/$NT_PREFIX-$n" "$@"; }
in_phys() { timeout 20 nsenter --net="/run/netns/$NT_PREFIX-phys" "$@"; }
# From silo-test-net's "endpoint a id … address X mac M" line.
addr_of() { sed -n 's/.* address \([^ ]*\).*/\1/p' <<<"$1"; }
mac_of() { sed -n 's/.* mac \([^ ]*\).*/\1/p' <<<"$1"; }
# The MAC phys has learnt for ADDR (its neighbour table), "" when none.
phys_neigh() { in_phys ip neigh show "$1" dev eth0 | sed -n 's/.* lladdr \([^ ]*\).*/\1/p'; }
