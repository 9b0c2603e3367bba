#!/usr/bin/env bats
# DHCP for transparent endpoints: dnsmasq (started here, by pid) serves a small range
# inside the "physical network" namespace `phys`; the daemon's client leases an address
# for each endpoint with the endpoint's own MAC, from inside the container's namespace.

load netlib

setup() {
  nt_setup
  command -v dnsmasq >/dev/null || skip "skipped, because dnsmasq is not installed (apt-get install dnsmasq-base)"
  nt_phys nt-phys0 192.0.2.100/24
  # No DNS (port 0), no config files, no daemonizing: one process we can end by pid.
  nsenter --net="/run/netns/$NT_PREFIX-phys" dnsmasq --keep-in-foreground --no-daemon \
    --conf-file=/dev/null --port=0 --no-resolv --no-hosts --interface=eth0 --bind-interfaces \
    --dhcp-range=192.0.2.50,192.0.2.59,255.255.255.0,2m --dhcp-option=option:router,192.0.2.100 \
    --dhcp-leasefile="$NT_DIR/leases" --pid-file= --dhcp-authoritative --no-ping \
    --log-facility="$NT_DIR/dnsmasq.log" &
  NT_PIDS+=($!)
  # Ready when it holds the DHCP port.
  for _ in $(seq 50); do
    in_phys ss -Hlun 'sport = :67' | grep -q . && return 0
    sleep 0.1
  done
  cat "$NT_DIR/dnsmasq.log" 2>/dev/null || true
  false
}
teardown() { nt_teardown; }

@test "two DHCP endpoints get two different leases for their own MACs, reach phys, and renew" {
  run net network-create t1 --driver transparent -o parent=nt-phys0
  echo "$output"; [ "$status" -eq 0 ]
  [[ "$output" == *" dhcp"* ]]
  nt_container c1 c2
  run net connect t1 a "$(ctr_path c1)"
  echo "$output"; [ "$status" -eq 0 ]
  a1=$(addr_of "$output"); mac1=$(mac_of "$output")
  run net connect t1 b "$(ctr_path c2)"
  echo "$output"; [ "$status" -eq 0 ]
  a2=$(addr_of "$output"); mac2=$(mac_of "$output")
  echo "leases: $a1 ($mac1) $a2 ($mac2)"
  [[ "$a1" == 192.0.2.5? ]]
  [[ "$a2" == 192.0.2.5? ]]
  [ "$a1" != "$a2" ]
  # dnsmasq's lease file has one lease per endpoint MAC with the address we configured.
  cat "$NT_DIR/leases"
  grep -q " $mac1 $a1 " "$NT_DIR/leases"
  grep -q " $mac2 $a2 " "$NT_DIR/leases"
  run in_ctr c1 ip -o addr show dev eth0
  [[ "$output" == *"inet $a1/24"* ]]
  run in_ctr c1 ip route show default
  [[ "$output" == *"via 192.0.2.100 dev eth0"* ]]
  in_ctr c1 busybox ping -c1 -W2 192.0.2.100
  in_ctr c2 busybox ping -c1 -W2 "$a1"
  run net dhcp-renew t1 a
  echo "$output"; [ "$status" -eq 0 ]
  # dnsmasq takes a little off T1 (half the 2m lease) so clients do not renew in step.
  [[ "$output" =~ ^renewed\ $a1/24\ lease\ 120s\ renew\ after\ ([0-9]+)s$ ]]
  t1=${BASH_REMATCH[1]}
  [ "$t1" -gt 0 ] && [ "$t1" -le 60 ]
  grep -q "DHCPACK(eth0) $a1 $mac1" "$NT_DIR/dnsmasq.log"
}

@test "without a DHCP server the connect fails clearly and leaves no interface behind" {
  kill "${NT_PIDS[0]}"; wait "${NT_PIDS[0]}" 2>/dev/null || true
  net network-create t1 --driver transparent -o parent=nt-phys0
  nt_container c1
  run net connect t1 a "$(ctr_path c1)"
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"no DHCP server answered DHCPDISCOVER after 4 tries"* ]]
  run in_ctr c1 ip link show eth0
  [ "$status" -ne 0 ]
}
