#!/usr/bin/env bats
# Reconcile on real kernel objects: a network and an endpoint the state no longer knows
# (as after a crash between the kernel step and the store) are found by their tags and
# removed; another table and a foreign interface named like Silo's stay untouched.

load netlib

setup() {
  nt_setup
  command -v jq >/dev/null || skip "skipped, because jq is not installed"
}
teardown() { nt_teardown; }

@test "reconcile removes a stray bridge, veth, rules and set element, and nothing else" {
  in_host nft add table inet other
  in_host nft add chain inet other c
  in_host nft add rule inet other c counter comment '"silo:net=not-ours"'
  in_host ip link add silo-foreign type bridge
  in_host ip link add veth-foreign type veth peer name veth-foreign1
  run net network-create keep --subnet 10.201.0.0/24
  echo "$output"; [ "$status" -eq 0 ]
  keep_br=$(sed -n 's/.* bridge \([^ ]*\) .*/\1/p' <<<"$output")
  run net network-create gone --subnet 10.202.0.0/24
  echo "$output"; [ "$status" -eq 0 ]
  gone_br=$(sed -n 's/.* bridge \([^ ]*\) .*/\1/p' <<<"$output")
  nt_container c1 c2
  net connect keep a "$(ctr_path c1)" -p 8080:80
  run net connect gone b "$(ctr_path c2)" -p 8081:80
  echo "$output"
  gone_veth=$(sed -n 's/.* veth \([^ ]*\).*/\1/p' <<<"$output")
  # The engine "forgets" network gone and its endpoint.
  jq 'del(.networks.gone) | del(.endpoints["gone/b"])' "$NT_DIR/state.json" >"$NT_DIR/s2"
  mv "$NT_DIR/s2" "$NT_DIR/state.json"
  run net reconcile
  echo "$output"; [ "$status" -eq 0 ]
  [[ "$output" == *"stray interface $gone_br (silo:net="* ]]
  [[ "$output" == *"stray interface $gone_veth (silo:ep="* ]]
  [[ "$output" == *"stray bridges set element $gone_br"* ]]
  run in_host ip link show "$gone_br"; [ "$status" -ne 0 ]
  run in_host ip link show "$gone_veth"; [ "$status" -ne 0 ]
  run net nft-list
  echo "$output"
  [[ "$output" != *"$gone_br"* ]]
  [ "$(grep -c 'silo:ep=' <<<"$output")" -eq 3 ]  # a's mapping stays
  [[ "$output" == *"bridge $keep_br"* ]]
  # What the state knows, and what is not Silo's, is untouched.
  in_host ip link show "$keep_br"
  in_host ip link show silo-foreign
  in_host ip link show veth-foreign
  run in_host nft list table inet other
  [[ "$output" == *'comment "silo:net=not-ours"'* ]]
  in_ctr c1 busybox ping -c1 -W2 10.201.0.1
  # A second pass finds nothing.
  run net reconcile
  [ -z "$output" ]
}
