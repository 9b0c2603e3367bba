#!/usr/bin/env bash
# shellcheck disable=SC2317 # cleanup and the per-tool functions are called indirectly
# Image pull from a loopback registry: the wall time of
#   silo   pull 127.0.0.1:PORT/bench/big:latest     (against a silod started here)
#   docker pull 127.0.0.1:PORT/bench/big:latest     (against a dockerd started here)
#   skopeo copy docker://127.0.0.1:PORT/bench/big:latest dir:FRESH_DIR
# of a generated multi-layer image: busybox plus PULL_LAYERS (default 4) layers of one
# PULL_LAYER_MIB (default 32) MiB file of /dev/urandom bytes each, gzip layers as a
# registry usually holds them (~130 MiB, incompressible, so the size is what it says).
# The image is made as a docker-archive, `silo load`ed and `silo push`ed to Debian's
# docker-registry. Before every pull the image is removed (silo rmi, docker rmi, a fresh
# skopeo dir) and the bench checks that its blobs and unpacked layers are gone, so each
# pull downloads everything. PULL_N runs each (default 3) after one warm-up round,
# alternating tools; prints the medians, the ratios silo/docker and silo/skopeo, and
#   pull 130 MiB 5 layers: silo 1.23 s, docker 2.34 s (0.53x), skopeo 1.80 s (0.68x) (goal < 1x both)
#   goal: pull faster than docker and skopeo: met|not met|n/a
# docker and skopeo are n/a when not installed; without docker-registry the bench is
# skipped.
#
#   bench/pull.sh BUILD                  # PULL_N=5 bench/pull.sh build
#
# Everything runs inside one throwaway network namespace made here (only lo; nsenter
# --net, so cgroups stay visible): the registry on 127.0.0.1:PORT (PULL_PORT, default
# 5000), silod and dockerd (--bridge=none --iptables=false) with their own data root, exec
# root, pidfile and socket under a temp dir, both told the registry is insecure (plain
# HTTP). All of it is stopped by pid and removed on exit, also on failure or Ctrl-C.
# Exit status: 0 when the pulls worked (goal met or not), 1 on an error.
set -uo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
build=${1:-build}
[ -d "$build" ] || { echo "usage: $0 BUILD (no such dir: $build)" >&2; exit 1; }
build=$(cd "$build" && pwd)
N=${PULL_N:-3}
LAYERS=${PULL_LAYERS:-4}
LAYER_MIB=${PULL_LAYER_MIB:-32}
PORT=${PULL_PORT:-5000}
REG=127.0.0.1:$PORT
IMG=$REG/bench/big:latest
rootfs=${SILO_ROOTFS:-$build/rootfs/busybox}
silo_cli=${SILO_CLI:-$build/silo}
((N >= 1 && LAYERS >= 1 && LAYER_MIB >= 1)) || { echo "PULL_N, PULL_LAYERS, PULL_LAYER_MIB must be >= 1" >&2; exit 1; }

bench_preflight "$build/silod" "$rootfs"
[ -x "$silo_cli" ] || { echo "error: $silo_cli is not built (make build)" >&2; exit 1; }
for t in curl sha256sum gzip tar; do command -v $t >/dev/null || { echo "error: $t is not installed" >&2; exit 1; }; done
command -v docker-registry >/dev/null || {
  echo "skipped, because docker-registry is not installed (apt-get install docker-registry)"
  exit 0
}

work=$(mktemp -d /tmp/silo-bench-pull.XXXXXX)
chmod 755 "$work"
ns="silo-bench-pull-$$"
have_docker=0 reg_pid='' pull_pid=''

cleanup() {
  if [ -n "$pull_pid" ]; then kill -TERM "$pull_pid" 2>/dev/null; wait "$pull_pid" 2>/dev/null; fi
  bench_stop_silod "$build" "$work/silo" "$ns"
  [ "$have_docker" = 1 ] && bench_stop_dockerd "$work/docker"
  if [ -n "$reg_pid" ]; then
    kill -TERM "$reg_pid" 2>/dev/null
    wait "$reg_pid" 2>/dev/null
  fi
  local f pid # a registry of ours that outlived its pid (none, normally)
  grep -lsF -- "$work/registry/config.yml" /proc/[0-9]*/cmdline | while read -r f; do
    pid=${f#/proc/} && pid=${pid%/cmdline}
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = docker-registry ] && kill -TERM "$pid" 2>/dev/null
  done
  ip netns delete "$ns" 2>/dev/null
  bench_umount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { nsenter --net="/run/netns/$ns" "$@"; }
silo() { "$silo_cli" -H "unix://$SILOD_SOCK" "$@"; }
dk() { DOCKER_CONFIG="$work/docker/config" docker -H "unix://$DOCKERD_SOCK" "$@"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- the image: a docker-archive of gzip layers ------------------------------------------
# make_image DIR: writes DIR/image.tar and sets LAYER_HEX (the gzip blobs' digests),
# CHAIN_HEX (the layers' chain ids, which name silod's unpacked layer dirs) and MIB.
make_image() {
  local d=$1 i arch diff prev="" total=0 tarflags
  tarflags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime=@0)
  mkdir -p "$d/archive" "$d/tree"
  LAYER_HEX=() CHAIN_HEX=()
  local diffs=() names=()
  for ((i = 0; i <= LAYERS; i++)); do
    if ((i == 0)); then
      tar "${tarflags[@]}" -C "$rootfs" -cf "$d/layer.tar" . || return 1
    else
      rm -rf "$d/tree" && mkdir -p "$d/tree/data" || return 1
      head -c "${LAYER_MIB}M" /dev/urandom >"$d/tree/data/blob$i.bin" || return 1
      tar "${tarflags[@]}" -C "$d/tree" -cf "$d/layer.tar" . || return 1
    fi
    diff=sha256:$(sha "$d/layer.tar")
    gzip -1 -n -c "$d/layer.tar" >"$d/archive/layer$i.tar.gz" || return 1
    LAYER_HEX+=("$(sha "$d/archive/layer$i.tar.gz")")
    total=$((total + $(stat -c %s "$d/archive/layer$i.tar.gz")))
    if [ -z "$prev" ]; then
      prev=$diff
    else # the chain id: sha256 of "PARENT_CHAIN DIFF_ID"
      prev=sha256:$(printf '%s %s' "$prev" "$diff" | sha256sum | cut -d' ' -f1)
    fi
    CHAIN_HEX+=("${prev#sha256:}")
    diffs+=("\"$diff\"")
    names+=("\"layer$i.tar.gz\"")
  done
  rm -rf "$d/tree" "$d/layer.tar"
  case $(uname -m) in
    x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l) arch=arm ;; *) arch=$(uname -m) ;;
  esac
  printf '{"architecture":"%s","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$arch" "$(IFS=,; echo "${diffs[*]}")" >"$d/archive/config.json"
  printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":[%s]}]' "$IMG" "$(IFS=,; echo "${names[*]}")" \
    >"$d/archive/manifest.json"
  tar -C "$d/archive" -cf "$d/image.tar" . || return 1
  rm -rf "$d/archive"
  MIB=$(((total + 524288) / 1048576))
}

# start_registry DIR: docker-registry on $REG in the namespace; waits 10 s for /v2/.
# nsenter (not a shell function: its subshell would be $!) execs the registry in place, so
# $! is the registry's own pid.
start_registry() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}
http: {addr: "$REG"}
EOF
  nsenter --net="/run/netns/$ns" docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 </dev/null &
  reg_pid=$!
  bench_wait 100 in_ns curl -sf -o /dev/null "http://$REG/v2/" || {
    echo "error: docker-registry did not answer on $REG; its log:" >&2
    tail -n 20 "$dir/log" >&2
    return 1
  }
}

# --- per tool: remove (and check it is gone), pull, check ----------------------------------
silo_gone() {
  local h
  silo rmi -f "$IMAGE_ID" >/dev/null 2>&1
  silo images -q | grep -q "^${IMAGE_ID:7:12}" && { echo "silo images still lists ${IMAGE_ID:7:12}"; return 1; }
  for h in "${LAYER_HEX[@]}"; do
    [ ! -e "$work/silo/root/image/blobs/sha256/$h" ] || { echo "silo still has blob $h"; return 1; }
  done
  for h in "${CHAIN_HEX[@]}"; do
    [ ! -e "$work/silo/root/image/layers/$h" ] || { echo "silo still has layer dir $h"; return 1; }
  done
}
silo_cmd() { CMD=(nsenter --net="/run/netns/$ns" "$silo_cli" -H "unix://$SILOD_SOCK" pull "$IMG"); }
# After a pull: the image, with the blobs and layer dirs silo_gone looks for (so that its
# paths are the right ones), and the pull said it downloaded.
silo_check() {
  local h
  [ "$(silo image inspect --format '{{.Id}}' "$IMG" 2>/dev/null)" = "$IMAGE_ID" ] || return 1
  for h in "${LAYER_HEX[@]}"; do [ -f "$work/silo/root/image/blobs/sha256/$h" ] || return 1; done
  for h in "${CHAIN_HEX[@]}"; do [ -d "$work/silo/root/image/layers/$h" ] || return 1; done
  grep -q "Downloaded newer image for $IMG" "$work/silo.out"
}

# The layers in dockerd's layer store (image/DRIVER/layerdb/sha256/CHAIN).
docker_layers() { find "$work/docker/root/image" -mindepth 4 -maxdepth 4 -path '*/layerdb/sha256/*' -type d | wc -l; }
docker_gone() {
  dk rmi -f "$IMG" >/dev/null 2>&1
  [ -z "$(dk images -aq)" ] || { echo "docker images still lists $(dk images -aq | tr '\n' ' ')"; return 1; }
  [ "$(docker_layers)" = 0 ] || { echo "dockerd still has $(docker_layers) layers"; return 1; }
}
docker_cmd() {
  CMD=(env DOCKER_CONFIG="$work/docker/config" nsenter --net="/run/netns/$ns"
    docker -H "unix://$DOCKERD_SOCK" pull "$IMG")
}
docker_check() {
  [ "$(dk image inspect --format '{{.Id}}' "$IMG" 2>/dev/null)" = "$IMAGE_ID" ] || return 1
  [ "$(docker_layers)" = $((LAYERS + 1)) ] || return 1
  grep -q "Downloaded newer image for $IMG" "$work/docker.out"
}

SKOPEO_DIR=
skopeo_gone() {
  [ -z "$SKOPEO_DIR" ] || rm -rf "$SKOPEO_DIR"
  SKOPEO_DIR=$(mktemp -d "$work/skopeo/dir.XXXXXX") && rmdir "$SKOPEO_DIR"
}
skopeo_cmd() {
  CMD=(env TMPDIR="$work/skopeo/tmp" REGISTRY_AUTH_FILE="$work/skopeo/auth.json"
    nsenter --net="/run/netns/$ns"
    skopeo --insecure-policy copy --src-tls-verify=false "docker://$IMG" "dir:$SKOPEO_DIR")
}
skopeo_check() { # the config is the image's, and every layer the manifest lists is there
  local m=$SKOPEO_DIR/manifest.json d s
  [ "$(jq -r .config.digest "$m" 2>/dev/null)" = "$IMAGE_ID" ] || return 1
  [ "$(jq '.layers | length' "$m")" = $((LAYERS + 1)) ] || return 1
  while read -r d s; do
    [ "$(stat -c %s "$SKOPEO_DIR/${d#sha256:}" 2>/dev/null)" = "$s" ] || return 1
  done < <(jq -r '.layers[] | "\(.digest) \(.size)"' "$m")
}

# --- set up ----------------------------------------------------------------------------------
bench_netns "$ns" || exit 1
echo "making the image: busybox + $LAYERS x $LAYER_MIB MiB of random bytes, gzip layers"
make_image "$work/gen" || { echo "error: could not make the image under $work/gen" >&2; exit 1; }
start_registry "$work/registry" || exit 1

mkdir -p "$work/silo"
echo "{\"insecure-registries\": [\"$REG\"]}" >"$work/silo/daemon.json"
bench_start_silod "$build" "$work/silo" "$ns" || exit 1
silo load -q -i "$work/gen/image.tar" >"$work/load.log" 2>&1 || {
  echo "error: silo load of the generated image failed:" >&2; tail -n 5 "$work/load.log" >&2; exit 1
}
IMAGE_ID=$(silo image inspect --format '{{.Id}}' "$IMG")
silo push "$IMG" >"$work/push.log" 2>&1 || {
  echo "error: silo push $IMG failed:" >&2; tail -n 5 "$work/push.log" >&2; exit 1
}
rm -f "$work/gen/image.tar"
tools=(silo)

if command -v docker >/dev/null && command -v dockerd >/dev/null; then
  have_docker=1
  mkdir -p "$work/docker"
  echo "{\"insecure-registries\": [\"$REG\"]}" >"$work/docker/daemon.json"
  bench_start_dockerd "$work/docker" "$ns" "" || exit 1
  tools+=(docker)
else
  echo "docker not installed: n/a"
fi
if command -v skopeo >/dev/null; then
  mkdir -p "$work/skopeo/tmp"
  tools+=(skopeo)
else
  echo "skopeo not installed: n/a"
fi

# --- the runs ------------------------------------------------------------------------------
echo "pull $IMG ($MIB MiB, $((LAYERS + 1)) layers, image ${IMAGE_ID:7:12}): ${tools[*]}; N=$N runs each (+1 warm-up), netns $ns"
: >"$work/times"
rc=0
for ((i = -1; i < N; i++)); do
  for ((k = 0; k < ${#tools[@]}; k++)); do
    t=${tools[$k]}
    if ! "${t}_gone" >"$work/gone.out" 2>&1; then
      echo "error: $t: could not remove the image before a pull: $(cat "$work/gone.out")" >&2
      exit 1
    fi
    "${t}_cmd"
    sync # the last run's writeback is not this run's time
    # In the background, so that Ctrl-C reaches our trap at once.
    t0=${EPOCHREALTIME/./}
    timeout 600 "${CMD[@]}" >"$work/$t.out" 2>&1 &
    pull_pid=$!
    wait "$pull_pid"
    prc=$?
    t1=${EPOCHREALTIME/./}
    pull_pid=
    if [ $prc = 0 ] && ! "${t}_check"; then
      echo "$t: the pull said it worked but the image is not there as pushed" >>"$work/$t.out"
      prc=1
    fi
    if [ $prc != 0 ]; then
      echo "$t pull failed (rc $prc):" >&2
      tail -n 5 "$work/$t.out" | sed 's/^/  /' >&2
      rc=1
    fi
    ((i >= 0)) && echo "$k $((t1 - t0)) $prc" >>"$work/times"
  done
done

# --- the result ----------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "n/a"; else printf "%.2fx", a / b }'; }
secs() { awk -v m="$1" 'BEGIN { if (m == "nan") print "n/a"; else printf "%.2f s", m / 1000 }'; }
declare -A med
for ((k = 0; k < ${#tools[@]}; k++)); do
  read -r m _ f c < <(bench_stats "$work/times" $k)
  med[${tools[$k]}]=$m
  runs=$(awk -v k=$k '$1 == k { printf "%s%.0f", (n++ ? " " : ""), $2 / 1000 }' "$work/times")
  echo "${tools[$k]} pull: $c runs, $f failed, median $m ms (runs: $runs ms)"
done
r_docker=$(ratio "${med[silo]}" "${med[docker]:-nan}")
r_skopeo=$(ratio "${med[silo]}" "${med[skopeo]:-nan}")
echo "ratio silo/docker: $r_docker"
echo "ratio silo/skopeo: $r_skopeo"
part() { # part TOOL RATIO: "docker 2.34 s (0.53x)" or "docker not installed: n/a"
  if [ -z "${med[$1]:-}" ]; then echo "$1 not installed: n/a"; else echo "$1 $(secs "${med[$1]}") ($2)"; fi
}
echo "pull $MIB MiB $((LAYERS + 1)) layers: silo $(secs "${med[silo]}"), $(part docker "$r_docker"), $(part skopeo "$r_skopeo") (goal < 1x both)"
verdict=met known=0
for r in "$r_docker" "$r_skopeo"; do
  [ "$r" = n/a ] && continue
  known=1
  awk -v r="${r%x}" 'BEGIN { exit !(r < 1) }' || verdict="not met"
done
[ $known = 1 ] || verdict="n/a (neither docker nor skopeo measured)"
[ $rc = 0 ] || verdict="n/a (pulls failed)"
echo "goal: pull faster than docker and skopeo: $verdict (silo/docker $r_docker, silo/skopeo $r_skopeo)"
exit $rc
