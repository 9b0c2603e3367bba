#!/usr/bin/env bats
# The transparent driver on real kernel objects: the "physical network" is a namespace
# `phys` joined to the test host by a veth pair whose host end (nt-phys0) is the parent.

load netlib

setup() {
  nt_setup
  nt_phys nt-phys0 192.0.2.100/24
}
teardown() { nt_teardown; }

@test "transparent endpoints reach the physical network and each other, each with its own MAC" {
  run net network-create t1 --driver transparent --subnet 192.0.2.0/24 --gateway 192.0.2.100 -o parent=nt-phys0
  echo "$output"; [ "$status" -eq 0 ]
  nt_container c1 c2
  run net connect t1 a "$(ctr_path c1)" --ip 192.0.2.10
  echo "$output"; [ "$status" -eq 0 ]
  mac1=$(mac_of "$output")
  run net connect t1 b "$(ctr_path c2)" --ip 192.0.2.11 --mac-address 02:00:5E:10:00:0B
  echo "$output"; [ "$status" -eq 0 ]
  mac2=$(mac_of "$output")
  [ "$mac2" = 02:00:5e:10:00:0b ]
  in_ctr c1 busybox ping -c1 -W2 192.0.2.100
  in_ctr c2 busybox ping -c1 -W2 192.0.2.100
  in_ctr c1 busybox ping -c1 -W2 192.0.2.11
  in_ctr c2 busybox ping -c1 -W2 192.0.2.10
  # The macvlan carries the endpoint's MAC, and phys learnt two distinct ones.
  run in_ctr c1 ip -o link show eth0
  [[ "$output" == *"link/ether $mac1 "* ]]
  n1=$(phys_neigh 192.0.2.10); n2=$(phys_neigh 192.0.2.11)
  echo "phys neighbours: $n1 $n2"
  [ "$n1" = "$mac1" ]
  [ "$n2" = "$mac2" ]
  [ "$n1" != "$n2" ]
  run in_ctr c1 ip route show default
  [[ "$output" == *"via 192.0.2.100 dev eth0"* ]]
  # Disconnect removes the macvlan from the container.
  net disconnect t1 a
  run in_ctr c1 ip link show eth0
  [ "$status" -ne 0 ]
}

@test "the Windows interface option names the parent too" {
  run net network-create t1 --driver transparent --subnet 192.0.2.0/24 --gateway 192.0.2.100 -o com.docker.network.windowsshim.interface=nt-phys0
  echo "$output"; [ "$status" -eq 0 ]
  [[ "$output" == *"parent nt-phys0"* ]]
  nt_container c1
  net connect t1 a "$(ctr_path c1)"
  in_ctr c1 busybox ping -c1 -W2 192.0.2.100
}

@test "a second transparent network on the same parent is refused, naming the other network" {
  net network-create lan --driver transparent --subnet 192.0.2.0/24 --gateway 192.0.2.100 -o parent=nt-phys0
  run net network-create lan2 --driver transparent -o parent=nt-phys0
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"parent interface nt-phys0 is already used by transparent network lan"* ]]
}

@test "a missing parent is a clear error, and no option at all says which one to give" {
  run net network-create t1 --driver transparent --subnet 192.0.2.0/24 -o parent=nt-nosuch0
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"parent interface nt-nosuch0 does not exist on the host"* ]]
  run net network-create t1 --driver transparent --subnet 192.0.2.0/24
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"-o parent=IF"* ]]
}
