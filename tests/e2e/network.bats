#!/usr/bin/env bats
# The host network service with the nat driver, driven by the docker CLI against silod in a
# test host: the default network, user-defined networks, published ports (reachable from an
# "external" namespace, from the host as 127.0.0.1 and from containers), conflicts named
# before anything changes, static NAT mappings, daemon.json's fixed-cidr and bridge, and
# nothing left behind after a kill -9 of silod.

load lifecycle_lib

setup() {
  lc_require
  lc_setup_host
}

teardown() { lc_teardown_host; }

# An "external" machine: namespace $EXT joined to the test host by a veth, the test host
# 10.99.0.1/24, the external one 10.99.0.2/24 (no route off the machine anywhere).
add_external() {
  EXT="silo-ext-$$-${BATS_TEST_NUMBER}"
  th_netns_add "$EXT"
  ip -n "$EXT" link set lo up
  ip link add "vx$$" netns "$TH_NS" type veth peer name eth0 netns "$EXT"
  ip -n "$TH_NS" addr add 10.99.0.1/24 dev "vx$$"
  ip -n "$TH_NS" link set "vx$$" up
  ip -n "$EXT" addr add 10.99.0.2/24 dev eth0
  ip -n "$EXT" link set eth0 up
}
in_ext() { timeout 20 nsenter --net="/run/netns/$EXT" "$@"; }
in_host() { timeout 20 nsenter --net="/run/netns/$TH_NS" "$@"; }

# busybox's wget -T crashes (SIGSEGV) in Debian's busybox-static; timeouts come from
# busybox timeout instead.

# GET URL from a new container (run flags first): fetch --network a http://x/hostname.
# Not exec'd as pid 1: busybox timeout signals the program it execs, which as pid 1 of
# the container would ignore SIGTERM.
fetch() {
  local url=${*: -1}
  dk run --rm "${@:1:$#-1}" busybox sh -c "timeout 3 wget -qO- $url; exit \$?"
}

# A web server in a container answering its hostname at /hostname.
web() { dk run -d "$@" busybox httpd -f -p 80 -h /etc; }

rules() { in_host nft list table inet silo 2>/dev/null; }

@test "network: the default network nat exists on 172.16.0.0/12; ls shows nat and none" {
  lc_start_silod
  run dk network ls --format '{{.Name}} {{.Driver}}'
  [ "$status" -eq 0 ]
  [[ "$output" == *"nat nat"* ]]
  [[ "$output" == *"none null"* ]]
  [ "$(dk network inspect nat -f '{{(index .IPAM.Config 0).Subnet}}')" = 172.16.0.0/12 ]
  # docker run without --network lands on it, with Docker's NetworkSettings.
  web --name w1
  ip=$(dk_inspect w1 '{{.NetworkSettings.IPAddress}}')
  [[ "$ip" == 172.16.* ]]
  [ "$(dk_inspect w1 '{{.NetworkSettings.Gateway}}')" = 172.16.0.1 ]
  [ "$(dk_inspect w1 '{{.NetworkSettings.Networks.nat.IPAddress}}')" = "$ip" ]
  [[ "$(dk network inspect nat -f '{{json .Containers}}')" == *"$ip/12"* ]]
  # The pre-defined networks cannot be removed.
  run dk network rm nat
  [ "$status" -ne 0 ]
  [[ "$output" == *"pre-defined network"* ]]
}

@test "network: the default prefix moves when a host route overlaps it, and the log says so" {
  # An interface of the host in 172.16.5.0/24 (a veth pair: the dummy driver may be absent).
  in_host ip link add vd0 type veth peer name vd1
  in_host ip addr add 172.16.5.1/24 dev vd0
  in_host ip link set vd0 up
  in_host ip link set vd1 up
  lc_start_silod
  subnet=$(dk network inspect nat -f '{{(index .IPAM.Config 0).Subnet}}')
  [ "$subnet" != 172.16.0.0/12 ]
  grep -q "overlaps" "$TH_DIR/silod.log"
}

@test "network: daemon.json fixed-cidr sets the default prefix; bridge none makes no network" {
  echo '{"fixed-cidr": "10.77.0.0/24"}' >"$TH_DIR/daemon.json"
  lc_start_silod
  [ "$(dk network inspect nat -f '{{(index .IPAM.Config 0).Subnet}}')" = 10.77.0.0/24 ]
  lc_stop_silod
  rm -rf "$ROOT"
  echo '{"bridge": "none"}' >"$TH_DIR/daemon.json"
  lc_start_silod
  run dk network ls --format '{{.Name}}'
  [[ "$output" != *nat* ]]
  # Containers still run, with a loopback only.
  run dk run --rm busybox ip -o link
  [ "$status" -eq 0 ]
  [[ "$output" != *eth0* ]]
}

@test "network: the documented nat commands work verbatim with the docker CLI" {
  lc_start_silod
  dk network create -d nat --subnet=192.168.1.0/24 --gateway=192.168.1.1 MyNatNetwork
  [ "$(dk network inspect MyNatNetwork -f '{{.Driver}} {{(index .IPAM.Config 0).Gateway}}')" = "nat 192.168.1.1" ]
  dk run -d --network=MyNatNetwork --name n1 busybox sleep 1000
  [[ "$(dk_inspect n1 '{{.NetworkSettings.Networks.MyNatNetwork.IPAddress}}')" == 192.168.1.* ]]
  web --name p80 -p 80:80
  web --name p8082 -p 8082:80
  web --name pe -p 80 --network MyNatNetwork
  run dk ps --format '{{.Names}} {{.Ports}}'
  [[ "$output" == *"p80 0.0.0.0:80->80/tcp"* ]]
  [[ "$output" == *"p8082 0.0.0.0:8082->80/tcp"* ]]
  eph=$(dk port pe 80/tcp)
  [[ "$eph" =~ ^0\.0\.0\.0:[0-9]+$ ]]
  [[ "$output" == *"pe $eph->80/tcp"* ]]
  # -P publishes every EXPOSEd port.
  mkdir "$TH_DIR/ctx" && printf 'FROM busybox\nEXPOSE 80 81/udp\n' >"$TH_DIR/ctx/Dockerfile"
  dk build -q -t exposer "$TH_DIR/ctx" >/dev/null
  dk run -d -P --name pp exposer sleep 1000
  run dk port pp
  [[ "$output" == *"80/tcp -> 0.0.0.0:"* ]]
  [[ "$output" == *"81/udp -> 0.0.0.0:"* ]]
  dk rm -f n1 pe
  dk network rm MyNatNetwork
  run dk network inspect MyNatNetwork
  [ "$status" -ne 0 ]
}

@test "network: a published port answers from outside, from the host as 127.0.0.1, and from containers" {
  add_external
  lc_start_silod
  web --name web1 -p 8080:80
  id=$(dk_inspect web1 '{{.Id}}')
  short=${id:0:12}
  [ "$(in_ext busybox wget -qO- http://10.99.0.1:8080/hostname)" = "$short" ]
  [ "$(in_host busybox wget -qO- http://127.0.0.1:8080/hostname)" = "$short" ]
  [ "$(in_host busybox wget -qO- http://10.99.0.1:8080/hostname)" = "$short" ]
  # Another container, through the host's address (hairpin through the bridge).
  run dk run --rm busybox wget -qO- http://10.99.0.1:8080/hostname
  [ "$output" = "$short" ]
  # The container itself, through its own published port.
  run dk exec web1 wget -qO- http://10.99.0.1:8080/hostname
  [ "$output" = "$short" ]
  # Outbound: the container reaches the external machine, masqueraded as the host.
  in_ext busybox nc -l -p 9000 >"$TH_DIR/from" &
  ncpid=$!
  sleep 0.3
  dk run --rm busybox sh -c 'echo hi | timeout 3 nc 10.99.0.2 9000; exit 0'
  wait "$ncpid"
  [ "$(cat "$TH_DIR/from")" = hi ]
  # Stopping the container removes its mapping and firewall rules.
  rules | grep -q "dport 8080"
  dk stop -t 1 web1
  ! rules | grep -q "dport 8080"
  ! rules | grep -q "silo:ep="
}

@test "network: containers on one network reach each other; networks are isolated" {
  lc_start_silod
  dk network create a >/dev/null
  dk network create b >/dev/null
  web --name a1 --network a
  web --name b1 --network b
  a1=$(dk_inspect a1 '{{.NetworkSettings.Networks.a.IPAddress}}')
  b1=$(dk_inspect b1 '{{.NetworkSettings.Networks.b.IPAddress}}')
  run fetch --network a "http://$a1/hostname"
  [ "$status" -eq 0 ]
  run fetch --network a "http://$b1/hostname"
  [ "$status" -ne 0 ]
  # One container on both networks (one namespace, an endpoint per network).
  dk network connect b a1
  run dk exec a1 timeout 3 wget -qO- "http://$b1/hostname"
  [ "$status" -eq 0 ]
  [ "$(dk exec a1 ip -o -4 addr show | grep -c ' eth')" -eq 2 ]
  dk network disconnect b a1
  [ "$(dk exec a1 ip -o -4 addr show | grep -c ' eth')" -eq 1 ]
  # A network with endpoints cannot be removed; the message names them.
  run dk network rm b
  [ "$status" -ne 0 ]
  [[ "$output" == *"active endpoints"*"b1"* ]]
}

@test "network: IPAM --ip, --ip-range, --aux-address; a taken or outside address names the holder" {
  lc_start_silod
  dk network create --subnet 10.50.0.0/24 --ip-range 10.50.0.128/25 --aux-address host1=10.50.0.130 n
  dk run -d --name s1 --network n --ip 10.50.0.77 busybox sleep 1000
  [ "$(dk_inspect s1 '{{.NetworkSettings.Networks.n.IPAddress}}')" = 10.50.0.77 ]
  dk run -d --name d1 --network n busybox sleep 1000
  [[ "$(dk_inspect d1 '{{.NetworkSettings.Networks.n.IPAddress}}')" == 10.50.0.12[89] ]]
  run dk run -d --name s2 --network n --ip 10.50.0.77 busybox sleep 1000
  [ "$status" -ne 0 ]
  [[ "$output" == *"10.50.0.77"*"s1"* ]]
  run dk run -d --name s3 --network n --ip 10.60.0.5 busybox sleep 1000
  [ "$status" -ne 0 ]
  [[ "$output" == *"10.60.0.5"* ]]
  run dk run -d --name s4 --network n --ip 10.50.0.130 busybox sleep 1000
  [ "$status" -ne 0 ]
  [[ "$output" == *"host1"* ]]
  # Freed exactly once: stop and start s1 gets its address back, nobody else had it.
  dk stop -t 1 s1
  dk start s1
  [ "$(dk_inspect s1 '{{.NetworkSettings.Networks.n.IPAddress}}')" = 10.50.0.77 ]
}

@test "network: conflicts are found before anything changes and name the holder" {
  lc_start_silod
  web --name first -p 8080:80
  before=$(rules | grep -c silo:ep=)
  run dk run -d --name second -p 8080:80 busybox sleep 1000
  [ "$status" -ne 0 ]
  [[ "$output" == *"8080/tcp"*"first"* ]]
  [ "$(rules | grep -c silo:ep=)" -eq "$before" ]
  [ -z "$(dk_inspect second '{{.NetworkSettings.IPAddress}}')" ]
  # A listening socket of the host.
  in_host busybox nc -l -p 7070 >/dev/null &
  ncpid=$!
  sleep 0.3
  run dk run -d --name third -p 7070:80 busybox sleep 1000
  kill "$ncpid" 2>/dev/null || true
  [ "$status" -ne 0 ]
  [[ "$output" == *"7070/tcp"*"in use on the host by process"* ]]
  # A static NAT mapping.
  silo_nat add --external-port 7171 --internal-ip 172.16.0.99 --internal-port 80
  run dk run -d --name fourth -p 7171:80 busybox sleep 1000
  [ "$status" -ne 0 ]
  [[ "$output" == *"static NAT mapping"* ]]
}

silo_nat() { in_host "$SILO_BUILD/silo" -H "unix://$SOCK" network nat "$@"; }

@test "network: static NAT mappings: add, ls, rm, and traffic through one" {
  add_external
  lc_start_silod
  web --name target
  ip=$(dk_inspect target '{{.NetworkSettings.IPAddress}}')
  silo_nat add --external-port 8181 --internal-ip "$ip" --internal-port 80
  run silo_nat ls
  [[ "$output" == *"0.0.0.0:8181"*"$ip:80"*"static"* ]]
  id=$(dk_inspect target '{{.Id}}')
  [ "$(in_ext busybox wget -qO- http://10.99.0.1:8181/hostname)" = "${id:0:12}" ]
  silo_nat rm --external-port 8181
  ! rules | grep -q "dport 8181"
  run in_ext busybox timeout 3 wget -qO- http://10.99.0.1:8181/hostname
  [ "$status" -ne 0 ]
}

@test "network: nothing leaks after kill -9 of silod at any moment" {
  lc_start_silod
  dk network create leaky >/dev/null
  web --name keep -p 8090:80 --network leaky
  (
    for i in $(seq 30); do
      dk run -d --network leaky -p "$((9100 + i)):80" busybox sleep 1000 >/dev/null 2>&1 || true
      dk rm -f "$(dk ps -lq)" >/dev/null 2>&1 || true
    done
  ) &
  loop=$!
  sleep 2
  kill -KILL "$(lc_silod_pid)"
  kill "$loop" 2>/dev/null || true
  wait "$loop" 2>/dev/null || true
  lc_start_silod
  # Whatever ran stays; every other container's rules, links and addresses are gone.
  running=$(dk ps -q | wc -l)
  veths=$(in_host ip -o link show type veth | wc -l)
  [ "$veths" -eq "$running" ]
  eps=$(rules | grep -o 'silo:ep=[0-9a-f]*' | sort -u | wc -l)
  [ "$eps" -eq "$running" ]
  [ -z "$(ls "$RUN/netns")" ]
  # Addresses held in IPAM: the gateway plus one per running container on the network.
  held=$(python3 -c 'import sqlite3,json,sys
d=json.loads(sqlite3.connect(sys.argv[1]).execute("select data from networks where name=?", ("leaky",)).fetchone()[0])
print(sum(1 for s in d["subnets"] for a in s.get("allocated", {}) ) if isinstance(d["subnets"][0].get("allocated"), dict) else sum(len(s.get("allocated", [])) for s in d["subnets"]))' "$ROOT/silo.db")
  on_net=$(dk ps -q --filter network=leaky | wc -l)
  [ "$held" -eq "$((on_net + 1))" ]
  [ "$(in_host busybox wget -qO- http://127.0.0.1:8090/hostname)" = "$(dk_inspect keep '{{.Id}}' | cut -c1-12)" ]
}

@test "network: embedded DNS answers container names, aliases and links on user-defined networks" {
  lc_start_silod
  dk network create app >/dev/null
  web --name db --network app --network-alias database
  dbip=$(dk_inspect db '{{.NetworkSettings.Networks.app.IPAddress}}')
  run dk run --rm --network app busybox nslookup db
  [[ "$output" == *"$dbip"* ]]
  run dk run --rm --network app busybox nslookup database
  [[ "$output" == *"$dbip"* ]]
  run fetch --network app http://db/hostname
  [ "$output" = "$(dk_inspect db '{{.Id}}' | cut -c1-12)" ]
  run dk run --rm --network app --link db:sql busybox nslookup sql
  [[ "$output" == *"$dbip"* ]]
  # Unknown names are not invented; containers on other networks are not visible.
  run dk run --rm --network app busybox nslookup nosuchname
  [[ "$output" != *"$dbip"* ]]
  dk network create other >/dev/null
  run dk run --rm --network other busybox nslookup db
  [[ "$output" != *"$dbip"* ]]
  # --dns, --dns-search, --dns-option, --add-host, --hostname reach the container's files.
  run dk run --rm --network app --dns 10.1.2.3 --dns-search example.test --dns-option ndots:2 \
    --add-host myhost:10.9.9.9 -h box busybox sh -c 'cat /etc/resolv.conf /etc/hosts; hostname'
  [[ "$output" == *"nameserver 10.1.2.3"* ]]
  [[ "$output" == *"search example.test"* ]]
  [[ "$output" == *"ndots:2"* ]]
  [[ "$output" == *"10.9.9.9"*"myhost"* ]]
  [[ "$output" == *"box" ]]
}

@test "network: docker-compose: two services, one reaches the other by name" {
  command -v docker-compose >/dev/null || skip "skipped, because docker-compose is not installed"
  lc_start_silod
  mkdir -p "$TH_DIR/proj"
  cat >"$TH_DIR/proj/docker-compose.yml" <<'YAML'
version: "3"
services:
  web:
    image: busybox
    command: httpd -f -p 80 -h /etc
  client:
    image: busybox
    command: sh -c 'sleep 1; wget -qO- http://web/hostname'
    depends_on: [web]
YAML
  cd "$TH_DIR/proj"
  in_host env DOCKER_HOST="unix://$SOCK" docker-compose -p silotest up -d
  for _ in $(seq 50); do
    [ "$(dk ps -a --filter name=silotest_client --format '{{.Status}}')" != "${_x:-}" ] || true
    dk ps -a --filter name=silotest_client --format '{{.Status}}' | grep -q Exited && break
    sleep 0.2
  done
  run in_host env DOCKER_HOST="unix://$SOCK" docker-compose -p silotest logs client
  webid=$(dk ps -q --no-trunc --filter name=silotest_web | cut -c1-12)
  [[ "$output" == *"$webid"* ]]
  in_host env DOCKER_HOST="unix://$SOCK" docker-compose -p silotest down
  run dk network ls --format '{{.Name}}'
  [[ "$output" != *silotest* ]]
}

@test "network: --internal has no route out; --mac-address and IPv6 endpoints" {
  add_external
  lc_start_silod
  dk network create --internal inside >/dev/null
  run dk run --rm --network inside busybox sh -c 'ip route; timeout 3 nc 10.99.0.2 9 </dev/null; echo rc=$?'
  [[ "$output" != *default* ]]
  [[ "$output" == *"rc=1"* ]]
  # (the docker CLI 28 sends a per-network MAC only to API 1.44 daemons; silo sends 1.41's)
  in_host "$SILO_BUILD/silo" -H "unix://$SOCK" run -d --name mac1 --mac-address 02:42:ac:11:99:01 busybox sleep 1000
  [ "$(dk_inspect mac1 '{{.NetworkSettings.MacAddress}}')" = 02:42:ac:11:99:01 ]
  [[ "$(dk exec mac1 cat /sys/class/net/eth0/address)" == 02:42:ac:11:99:01 ]]
  dk network create --ipv6 --subnet fd00:5170:1::/64 --subnet 10.88.0.0/24 v6net >/dev/null
  web --name six --network v6net
  six=$(dk_inspect six '{{.NetworkSettings.Networks.v6net.GlobalIPv6Address}}')
  [[ "$six" == fd00:5170:1::* ]]
  run fetch --network v6net "http://[$six]/hostname"
  [ "$output" = "$(dk_inspect six '{{.Id}}' | cut -c1-12)" ]
}

sl() { in_host "$SILO_BUILD/silo" -H "unix://$SOCK" "$@"; }

@test "network: the silo CLI: network create, ls, inspect, connect, disconnect, rm, prune; port; ps" {
  lc_start_silod
  id=$(sl network create -d nat --subnet 10.66.0.0/24 --gateway 10.66.0.1 --label team=a mine)
  [ ${#id} -eq 64 ]
  run sl network ls
  [[ "${lines[0]}" == "NETWORK ID"*"NAME"*"DRIVER"*"SCOPE"* ]]
  [[ "$output" == *"${id:0:12}   mine"*"nat"*"local"* ]]
  [ "$(sl network ls -q --filter label=team=a)" = "${id:0:12}" ]
  [ "$(sl network inspect mine -f '{{(index .IPAM.Config 0).Gateway}}')" = 10.66.0.1 ]
  sl run -d --name c1 -p 8085:80 busybox httpd -f -p 80 -h /etc
  [ "$(sl port c1)" = "80/tcp -> 0.0.0.0:8085" ]
  [ "$(sl port c1 80)" = "0.0.0.0:8085" ]
  run sl port c1 81
  [ "$status" -eq 1 ]
  [[ "$output" == *"No public port '81/tcp' published for c1"* ]]
  [[ "$(sl ps --format '{{.Ports}}')" == "0.0.0.0:8085->80/tcp" ]]
  sl network connect --ip 10.66.0.50 --alias extra mine c1
  [ "$(sl inspect c1 -f '{{.NetworkSettings.Networks.mine.IPAddress}}')" = 10.66.0.50 ]
  [ "$(sl ps -q --filter network=mine)" = "$(sl ps -q --filter name=c1)" ]
  run sl network rm mine
  [ "$status" -ne 0 ]
  sl network disconnect mine c1
  [ "$(sl network rm mine)" = mine ]
  sl network create unused >/dev/null
  run sl network prune -f
  [[ "$output" == *"Deleted Networks:"*unused* ]]
  [[ "$(sl network ls --format '{{.Name}}')" != *unused* ]]
}
