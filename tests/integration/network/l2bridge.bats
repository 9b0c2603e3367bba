#!/usr/bin/env bats
# The l2bridge driver on real kernel objects: the test host's uplink (nt-up0,
# 192.0.2.1/24) is joined by a veth pair to the "physical network" namespace `phys`
# (192.0.2.100/24); endpoints get static addresses in that subnet.

load netlib

setup() {
  nt_setup
  nt_phys nt-up0 192.0.2.100/24
  ip -n "$NT_HOST" addr add 192.0.2.1/24 dev nt-up0
}
teardown() { nt_teardown; }

@test "l2bridge endpoints are reached from phys, which sees only the host's MAC for both" {
  run net network-create l2 --driver l2bridge --subnet 192.0.2.0/24 --gateway 192.0.2.100 -o parent=nt-up0
  echo "$output"; [ "$status" -eq 0 ]
  nt_container c1 c2
  run net connect l2 a "$(ctr_path c1)" --ip 192.0.2.10
  echo "$output"; [ "$status" -eq 0 ]
  run net connect l2 b "$(ctr_path c2)" --ip 192.0.2.11
  echo "$output"; [ "$status" -eq 0 ]
  in_phys busybox ping -c1 -W2 192.0.2.10
  in_phys busybox ping -c1 -W2 192.0.2.11
  in_ctr c1 busybox ping -c1 -W2 192.0.2.100
  in_ctr c1 busybox ping -c1 -W2 192.0.2.11
  host_mac=$(in_host ip -o link show nt-up0 | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
  n1=$(phys_neigh 192.0.2.10); n2=$(phys_neigh 192.0.2.11)
  echo "host $host_mac, phys neighbours: $n1 $n2"
  [ -n "$host_mac" ]
  [ "$n1" = "$host_mac" ]
  [ "$n2" = "$host_mac" ]
  # Each port still has a MAC of its own.
  m1=$(in_ctr c1 ip -o link show eth0 | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
  m2=$(in_ctr c2 ip -o link show eth0 | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
  [ "$m1" != "$m2" ]
  [ "$m1" != "$host_mac" ]
  run in_host ip route show 192.0.2.10
  [[ "$output" == *"192.0.2.10 dev veth"* ]]
  net disconnect l2 a
  run in_host ip route show 192.0.2.10
  [ -z "$output" ]
  net disconnect l2 b
  net network-delete l2
  [ "$(in_host cat /proc/sys/net/ipv4/conf/nt-up0/proxy_arp)" = 0 ]
}

@test "an l2bridge network without its uplink is a clear error" {
  run net network-create l2 --driver l2bridge --subnet 192.0.2.0/24 --gateway 192.0.2.100 -o parent=nt-nosuch
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"uplink interface nt-nosuch does not exist on the host"* ]]
}
