#!/usr/bin/env bats
# The nat driver on real kernel objects, all inside throwaway namespaces: a "test host"
# namespace holds the bridges and Silo's nftables table (never the machine's root
# namespace), and each "container" is a namespace of its own. Driven through
# tests/tools/silo-test-net, which calls the network library.

load netlib

setup() {
  nt_setup
  # The test host's "uplink": a veth pair inside it with a documentation address, so the
  # host has an address of its own besides 127.0.0.1 and no route off the machine.
  ip -n "$NT_HOST" link add nt-up0 type veth peer name nt-up1
  ip -n "$NT_HOST" addr add 192.0.2.1/24 dev nt-up0
  ip -n "$NT_HOST" link set nt-up0 up
  ip -n "$NT_HOST" link set nt-up1 up
}

teardown() { nt_teardown; }

@test "two containers on one nat network reach each other and the gateway" {
  run net network-create n1 --subnet 10.201.0.0/24
  echo "$output"; [ "$status" -eq 0 ]
  nt_container c1 c2; c1=$(ctr_path c1); c2=$(ctr_path c2)
  run net connect n1 a "$c1"; echo "$output"; [ "$status" -eq 0 ]
  [ "$(addr_of "$output")" = 10.201.0.2 ]
  run net connect n1 b "$c2"; echo "$output"; [ "$status" -eq 0 ]
  [ "$(addr_of "$output")" = 10.201.0.3 ]
  in_ctr c1 busybox ping -c1 -W2 10.201.0.3
  in_ctr c2 busybox ping -c1 -W2 10.201.0.2
  in_ctr c1 busybox ping -c1 -W2 10.201.0.1
  # The default route goes via the gateway, so the host's own address answers too.
  in_ctr c1 busybox ping -c1 -W2 192.0.2.1
  run in_ctr c1 ip route show default
  [[ "$output" == *"via 10.201.0.1 dev eth0"* ]]
}

@test "containers on two different nat networks cannot reach each other" {
  net network-create n1 --subnet 10.201.0.0/24
  net network-create n2 --subnet 10.202.0.0/24
  nt_container c1 c2; c1=$(ctr_path c1); c2=$(ctr_path c2)
  net connect n1 a "$c1"
  net connect n2 b "$c2"
  in_ctr c1 busybox ping -c1 -W2 10.201.0.1
  in_ctr c2 busybox ping -c1 -W2 10.202.0.1
  run in_ctr c1 busybox ping -c1 -W1 10.202.0.2
  [ "$status" -ne 0 ]
  run in_ctr c2 busybox ping -c1 -W1 10.201.0.2
  [ "$status" -ne 0 ]
}

@test "a second network on an overlapping subnet is refused, naming the network" {
  net network-create n1 --subnet 10.201.0.0/16
  run net network-create n2 --subnet 10.201.5.0/24
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"overlaps 10.201.0.0/16 of network n1"* ]]
}

@test "without --subnet the default pool is used, skipping a host route" {
  ip -n "$NT_HOST" route add 172.16.0.0/16 dev nt-up0
  run net network-create n1
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"note: 172.16.0.0/16 overlaps host route 172.16.0.0/16; using 172.17.0.0/16"* ]]
  [[ "$output" == *"subnet 172.17.0.0/16 gateway 172.17.0.1"* ]]
}

@test "a static address in use is refused, naming the container that holds it" {
  net network-create n1 --subnet 10.201.0.0/24
  nt_container c1 c2; c1=$(ctr_path c1); c2=$(ctr_path c2)
  net connect n1 web "$c1" --ip 10.201.0.5
  run net connect n1 api "$c2" --ip 10.201.0.5
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"address 10.201.0.5 is in use by container web ("*"…)"* ]]
  run net connect n1 api "$c2" --ip 10.9.0.5
  [ "$status" -eq 1 ]
  [[ "$output" == *"not in subnet 10.201.0.0/24"* ]]
  # Nothing was left behind by the refused connects.
  run in_ctr c2 ip -o link show
  [ "$(wc -l <<<"$output")" -eq 1 ]
}

@test "a published port reaches the container from the host address and from 127.0.0.1; disconnect removes its rules" {
  net network-create n1 --subnet 10.201.0.0/24
  nt_container c1; c1=$(ctr_path c1)
  run net connect n1 web "$c1" -p 8080:80
  echo "$output"; [ "$status" -eq 0 ]
  mkdir -p "$NT_DIR/www"
  echo "hello from web" >"$NT_DIR/www/index.html"
  nsenter --net="$c1" busybox httpd -f -p 80 -h "$NT_DIR/www" &
  NT_PIDS+=($!)
  in_ctr c1 sh -c 'for i in $(seq 50); do busybox wget -qO- http://127.0.0.1/ >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1'
  run in_host busybox wget -qO- http://192.0.2.1:8080/
  echo "$output"; [ "$output" = "hello from web" ]
  run in_host busybox wget -qO- http://127.0.0.1:8080/
  echo "$output"; [ "$output" = "hello from web" ]
  run net nft-list
  echo "$output"
  [ "$(grep -c 'silo:ep=' <<<"$output")" -eq 3 ]  # prerouting, output, forward
  run net disconnect n1 web
  [ "$status" -eq 0 ]
  run net nft-list
  echo "$output"
  [ "$(grep -c 'silo:ep=' <<<"$output")" -eq 0 ]
  [ "$(grep -c 'silo:net=' <<<"$output")" -gt 0 ]
  run in_host timeout 3 busybox wget -qO- http://127.0.0.1:8080/
  [ "$status" -ne 0 ]
}

@test "a container reaches another's published port through the host address (hairpin)" {
  net network-create n1 --subnet 10.201.0.0/24
  nt_container c1 c2; c1=$(ctr_path c1); c2=$(ctr_path c2)
  net connect n1 web "$c1" -p 8080:80
  net connect n1 client "$c2"
  mkdir -p "$NT_DIR/www"
  echo "hairpin ok" >"$NT_DIR/www/index.html"
  nsenter --net="$c1" busybox httpd -f -p 80 -h "$NT_DIR/www" &
  NT_PIDS+=($!)
  in_ctr c1 sh -c 'for i in $(seq 50); do busybox wget -qO- http://127.0.0.1/ >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1'
  run in_ctr c2 busybox wget -qO- http://192.0.2.1:8080/
  echo "$output"; [ "$output" = "hairpin ok" ]
}

@test "deleting a network removes its bridge, rules and set element; nothing else in the table is touched" {
  # Another table in the test host stands for the machine's own firewall.
  in_host nft add table inet other
  in_host nft add chain inet other c
  in_host nft add rule inet other c counter comment '"not silo"'
  run net network-create n1 --subnet 10.201.0.0/24
  echo "$output"
  br=$(sed -n 's/.* bridge \([^ ]*\) .*/\1/p' <<<"$output")
  in_host ip link show "$br"
  nt_container c1; c1=$(ctr_path c1)
  net connect n1 a "$c1"
  run net network-delete n1
  echo "$output"; [ "$status" -eq 1 ]
  [[ "$output" == *"has endpoint a; disconnect it first"* ]]
  net disconnect n1 a
  net network-delete n1
  run in_host ip link show "$br"
  [ "$status" -ne 0 ]
  run net nft-list
  [ -z "$output" ]
  run in_host nft list table inet other
  [[ "$output" == *'comment "not silo"'* ]]
}

@test "a bridge name that is taken is a clear error, and nothing is left half made" {
  in_host ip link add taken0 type veth peer name taken1
  run net network-create n1 --subnet 10.201.0.0/24 --bridge taken0
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"create bridge taken0"*"File exists"*"pick another network name"* ]]
  run in_host ip -o link show type bridge
  [ -z "$output" ]
  in_host ip link show taken0
}

@test "an endpoint's bridge port is in hairpin mode and its host veth carries Silo's tag" {
  net network-create n1 --subnet 10.201.0.0/24
  nt_container c1; c1=$(ctr_path c1)
  run net connect n1 web "$c1" -p 8080:80
  echo "$output"
  veth=$(sed -n 's/.* veth \([^ ]*\).*/\1/p' <<<"$output")
  run in_host ip -d link show "$veth"
  echo "$output"
  [[ "$output" == *"hairpin on"* ]]
  [[ "$output" == *"alias silo:ep="* ]]
}
