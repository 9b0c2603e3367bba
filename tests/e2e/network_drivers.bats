#!/usr/bin/env bats
# The transparent and l2bridge drivers and the Windows documentation's connectivity table,
# single node and multi node. The "physical network" is a namespace of the test's own
# ($PHY): a bridge `lan` with 10.123.174.1/23 (the router, and dnsmasq as the DHCP
# server where DHCP is tested) and a port per silod host. Host 1 is the test host, host 2
# a second namespace with a silod of its own; each host's uplink is `eth0` (10.123.174.2
# and .3) with its default route via the router. Nothing routes off the machine.

load lifecycle_lib

setup() {
  lc_require
  lc_setup_host
  PHY="silo-phy-$$-${BATS_TEST_NUMBER}"
  th_netns_add "$PHY"
  ip -n "$PHY" link set lo up
  ip -n "$PHY" link add lan type bridge
  ip -n "$PHY" addr add 10.123.174.1/23 dev lan
  ip -n "$PHY" link set lan up
  plug "$TH_NS" 10.123.174.2 p1
}

teardown() {
  [ -n "${DNSMASQ_PID:-}" ] && kill "$DNSMASQ_PID" 2>/dev/null
  [ -n "${PHY_WEB_PID:-}" ] && kill "$PHY_WEB_PID" 2>/dev/null
  stop_host2
  lc_teardown_host
}

# plug NS ADDR PORT: a veth from the physical network's bridge to NS's eth0 with ADDR/23
# and a default route via the router.
plug() {
  ip link add "$3-$$" netns "$PHY" type veth peer name eth0 netns "$1"
  ip -n "$PHY" link set "$3-$$" master lan up
  ip -n "$1" link set lo up
  ip -n "$1" addr add "$2/23" dev eth0
  ip -n "$1" link set eth0 up
  ip -n "$1" route add default via 10.123.174.1
}
in_phy() { timeout 20 nsenter --net="/run/netns/$PHY" "$@"; }

# Host 2: namespace $H2 on the physical network with its own silod.
start_host2() {
  H2="silo-h2-$$-${BATS_TEST_NUMBER}"
  th_netns_add "$H2"
  plug "$H2" 10.123.174.3 p2
  H2DIR="$TH_DIR/h2"
  mkdir -p "$H2DIR"
  echo '{}' >"$H2DIR/daemon.json"
  nsenter --net="/run/netns/$H2" "$SILOD" --data-root "$H2DIR/root" --exec-root "$H2DIR/run" \
    -H "unix://$H2DIR/s.sock" --config-file "$H2DIR/daemon.json" </dev/null >>"$H2DIR/silod.log" 2>&1 3>&- &
  H2PID=$!
  for _ in $(seq 100); do [ -S "$H2DIR/s.sock" ] && dk2 version >/dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$H2DIR/silod.log"
  return 1
}
dk2() { timeout 60 nsenter --net="/run/netns/$H2" docker -H "unix://$H2DIR/s.sock" "$@"; }
stop_host2() {
  [ -n "${H2PID:-}" ] || return 0
  local id
  for id in $(dk2 ps -aq 2>/dev/null); do dk2 rm -f "$id" >/dev/null 2>&1; done
  kill "$H2PID" 2>/dev/null
  wait "$H2PID" 2>/dev/null || true
  H2PID=
}

# The physical network's own web server (the "external" machine): 10.123.174.1:8000.
phy_web() {
  mkdir -p "$TH_DIR/www" && echo phy >"$TH_DIR/www/who"
  in_phy busybox httpd -f -p 10.123.174.1:8000 -h "$TH_DIR/www" &
  PHY_WEB_PID=$!
  sleep 0.2
}

fetch_in() { dk exec "$1" sh -c "timeout 3 wget -qO- $2; exit \$?"; }

@test "transparent: the documented commands; static --ip on the physical network, both directions" {
  lc_start_silod
  phy_web
  dk network create -d transparent --subnet=10.123.174.0/23 --gateway=10.123.174.1 TransparentNet3
  [ "$(dk network inspect TransparentNet3 -f '{{.Driver}} {{index .Options "parent"}}')" = "transparent eth0" ]
  dk run -d --name t1 --network=TransparentNet3 --ip 10.123.174.105 busybox httpd -f -p 80 -h /etc
  dk run -d --name t2 --network=TransparentNet3 --ip 10.123.174.106 busybox sleep 1000
  [ "$(dk_inspect t1 '{{.NetworkSettings.Networks.TransparentNet3.IPAddress}}')" = 10.123.174.105 ]
  # Container to external, external to container, container to container.
  [ "$(fetch_in t1 http://10.123.174.1:8000/who)" = phy ]
  [ "$(in_phy busybox wget -qO- http://10.123.174.105/hostname)" = "$(dk_inspect t1 '{{.Id}}' | cut -c1-12)" ]
  [ -n "$(fetch_in t2 http://10.123.174.105/hostname)" ]
  # Each endpoint has its own MAC on the physical network.
  m1=$(dk_inspect t1 '{{.NetworkSettings.Networks.TransparentNet3.MacAddress}}')
  m2=$(dk_inspect t2 '{{.NetworkSettings.Networks.TransparentNet3.MacAddress}}')
  [ -n "$m1" ] && [ "$m1" != "$m2" ]
  in_phy ip neigh show 10.123.174.105 | grep -qi "$m1"
  # A second transparent network on the same parent is refused, naming the first.
  run dk network create -d transparent -o parent=eth0 Another
  [ "$status" -ne 0 ]
  [[ "$output" == *TransparentNet3* ]]
  # A container of the nat network joins it as its second network (no second default route).
  dk run -d --name both busybox sleep 1000
  dk network connect --ip 10.123.174.107 TransparentNet3 both
  [ "$(fetch_in both http://10.123.174.105/hostname)" = "$(dk_inspect t1 '{{.Id}}' | cut -c1-12)" ]
  [ "$(dk exec both ip route | grep -c '^default')" -eq 1 ]
  dk rm -f t1 t2 both
  dk network rm TransparentNet3
}

@test "transparent: without a subnet each endpoint leases its address by DHCP with its own MAC" {
  command -v dnsmasq >/dev/null || skip "skipped, because dnsmasq is not installed (dnsmasq-base)"
  in_phy dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=0 --interface=lan \
    --bind-interfaces --dhcp-range=10.123.174.100,10.123.174.150,255.255.254.0,120 \
    --dhcp-leasefile="$TH_DIR/leases" --pid-file="$TH_DIR/dnsmasq.pid" 2>"$TH_DIR/dnsmasq.log" &
  DNSMASQ_PID=$!
  sleep 0.5
  lc_start_silod
  dk network create -d transparent -o com.docker.network.windowsshim.interface=eth0 dhcpnet
  dk run -d --name d1 --network dhcpnet busybox sleep 1000
  dk run -d --name d2 --network dhcpnet busybox sleep 1000
  a1=$(dk_inspect d1 '{{.NetworkSettings.Networks.dhcpnet.IPAddress}}')
  a2=$(dk_inspect d2 '{{.NetworkSettings.Networks.dhcpnet.IPAddress}}')
  [[ "$a1" == 10.123.174.1[0-5][0-9] ]]
  [[ "$a2" == 10.123.174.1[0-5][0-9] ]]
  [ "$a1" != "$a2" ]
  # The server saw two clients, by the endpoints' MACs.
  m1=$(dk_inspect d1 '{{.NetworkSettings.Networks.dhcpnet.MacAddress}}')
  grep -qi "$m1 $a1" "$TH_DIR/leases"
  [ "$(wc -l <"$TH_DIR/leases")" -eq 2 ]
  dk exec d1 ping -c1 -W2 10.123.174.1
}

@test "l2bridge: the documented command; endpoints in the host's subnet behind the host's MAC" {
  lc_start_silod
  phy_web
  dk network create -d l2bridge --subnet=10.123.174.0/23 --gateway=10.123.174.1 MyBridgeNetwork
  dk run -d --name l1 --network=MyBridgeNetwork --ip 10.123.174.110 busybox httpd -f -p 80 -h /etc
  dk run -d --name l2 --network=MyBridgeNetwork --ip 10.123.174.111 busybox sleep 1000
  [ "$(fetch_in l1 http://10.123.174.1:8000/who)" = phy ]
  [ "$(in_phy busybox wget -qO- http://10.123.174.110/hostname)" = "$(dk_inspect l1 '{{.Id}}' | cut -c1-12)" ]
  [ -n "$(fetch_in l2 http://10.123.174.110/hostname)" ]
  # The physical network sees the host's MAC for the endpoint's address.
  hostmac=$(ip -n "$TH_NS" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
  in_phy ip neigh show 10.123.174.110 | grep -qi "$hostmac"
  dk rm -f l1 l2
  dk network rm MyBridgeNetwork
}

@test "multi node: nat, transparent and l2bridge containers reach containers on another host" {
  lc_start_silod
  start_host2
  # nat: through the other host's published port.
  dk2 run -d --name n2 -p 8080:80 busybox httpd -f -p 80 -h /etc
  dk run -d --name n1 busybox sleep 1000
  [ "$(fetch_in n1 http://10.123.174.3:8080/hostname)" = "$(dk2 inspect -f '{{.Id}}' n2 | cut -c1-12)" ]
  # transparent: directly, on the physical network.
  for d in dk dk2; do $d network create -d transparent --subnet=10.123.174.0/23 --gateway=10.123.174.1 tn >/dev/null; done
  dk2 run -d --name t2 --network tn --ip 10.123.174.121 busybox httpd -f -p 80 -h /etc
  dk run -d --name t1 --network tn --ip 10.123.174.120 busybox sleep 1000
  [ "$(fetch_in t1 http://10.123.174.121/hostname)" = "$(dk2 inspect -f '{{.Id}}' t2 | cut -c1-12)" ]
  dk rm -f t1 && dk2 rm -f t2
  dk network rm tn && dk2 network rm tn
  # l2bridge: routed by each host, proxy ARP on both uplinks.
  for d in dk dk2; do $d network create -d l2bridge --subnet=10.123.174.0/23 --gateway=10.123.174.1 lb >/dev/null; done
  dk2 run -d --name b2 --network lb --ip 10.123.174.131 busybox httpd -f -p 80 -h /etc
  dk run -d --name b1 --network lb --ip 10.123.174.130 busybox sleep 1000
  [ "$(fetch_in b1 http://10.123.174.131/hostname)" = "$(dk2 inspect -f '{{.Id}}' b2 | cut -c1-12)" ]
}

@test "transparent: the daemon renews a DHCP lease at T1" {
  command -v dnsmasq >/dev/null || skip "skipped, because dnsmasq is not installed (dnsmasq-base)"
  # A 120 s lease (dnsmasq's shortest) with T1 set to 3 s.
  in_phy dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=0 --interface=lan \
    --bind-interfaces --dhcp-range=10.123.174.100,10.123.174.150,255.255.254.0,120 \
    --dhcp-option=option:T1,3 --dhcp-option=option:T2,100 --log-dhcp \
    --dhcp-leasefile="$TH_DIR/leases" --log-facility="$TH_DIR/dnsmasq.log" &
  DNSMASQ_PID=$!
  sleep 0.5
  lc_start_silod
  dk network create -d transparent -o parent=eth0 dhcpnet
  dk run -d --name r1 --network dhcpnet busybox sleep 1000
  a1=$(dk_inspect r1 '{{.NetworkSettings.Networks.dhcpnet.IPAddress}}')
  [ "$(grep -c "DHCPACK.*$a1" "$TH_DIR/dnsmasq.log")" -eq 1 ]
  for _ in $(seq 80); do
    [ "$(grep -c "DHCPACK.*$a1" "$TH_DIR/dnsmasq.log")" -ge 2 ] && break
    sleep 0.1
  done
  [ "$(grep -c "DHCPACK.*$a1" "$TH_DIR/dnsmasq.log")" -ge 2 ]
  dk exec r1 ping -c1 -W2 10.123.174.1
}
