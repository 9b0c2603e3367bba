#!/usr/bin/env bats
# The image index through the docker CLI and silo: the seeded busybox:latest is an
# ordinary image of one layer (its layer unpacked once, containers mount it read-only),
# tag, images (filters, -q), inspect, history, rmi with dockerd's conflicts, and the
# layers and blobs an image leaves behind when it goes. One silod for the file
# (tests/lib/daemon.bash) in a throwaway test host; each test makes names of its own.

load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() {
  daemon_require
  require_shim
}

dk() { docker_cli "$@"; }

teardown() {
  docker_cli rm -f img-user >/dev/null 2>&1 || true
  local t
  docker_cli rm -f cm1 prune-user >/dev/null 2>&1 || true
  for t in img-a:1 localhost:5000/team/img-b silo-img:2 tiny:1 tiny2:1 noted:1 oci-tiny:1 \
    silo-fixture:one silo-fixture:two; do docker_cli rmi "$t" >/dev/null 2>&1 || true; done
}

@test "images: the seed busybox:latest is a one-layer image that containers run from" {
  require_docker
  run dk image inspect busybox --format '{{.RepoTags}} {{len .RootFS.Layers}} {{.Os}} {{.Config.Cmd}}'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "[busybox:latest] 1 linux [sh]" ]]
  local id
  id=$(dk image inspect busybox --format '{{.Id}}')
  [[ "$id" == sha256:* ]]
  # The id is the digest of the config blob in the store.
  local hex=${id#sha256:}
  [ "$(sha256sum "$ROOT/image/blobs/sha256/$hex" | cut -c1-64)" = "$hex" ]
  run dk run --rm --network none busybox sh -c 'test -x /bin/busybox && echo ok'
  [ "$output" = ok ]
  run dk history busybox --format '{{.CreatedBy}}'
  [[ "$output" == *"static busybox"* ]]
}

@test "images: tag, list with filters, rmi of a tag and of an image with dockerd's conflicts" {
  require_docker
  dk tag busybox img-a:1
  dk tag busybox localhost:5000/team/img-b
  run dk images --format '{{.Repository}}:{{.Tag}}'
  echo "$output"
  [[ "$output" == *"img-a:1"* ]]
  [[ "$output" == *"localhost:5000/team/img-b:latest"* ]]
  run dk images --filter reference=img-a --format '{{.Repository}}:{{.Tag}}'
  [ "$output" = "img-a:1" ]
  [ "$(dk images -q | sort -u | wc -l)" -eq 1 ]
  # By id while three names point at it: dockerd refuses without --force.
  run dk rmi "$(dk images -q | head -1)"
  [ "$status" -ne 0 ]
  [[ "$output" == *"must be forced) - image is referenced in multiple repositories"* ]]
  run dk rmi img-a:1
  [ "$status" -eq 0 ]
  [ "$output" = "Untagged: img-a:1" ]
  # A container uses it: removing its last other name is refused, as dockerd does.
  dk create --name img-user --network none localhost:5000/team/img-b true
  dk rmi localhost:5000/team/img-b  # not the last name: busybox:latest remains
  run dk rmi busybox
  [ "$status" -ne 0 ]
  [[ "$output" == *'unable to remove repository reference "busybox" (must force) - container'* ]]
  dk rm img-user
  run dk image inspect img-a:1
  [ "$status" -ne 0 ]
}

@test "images: silo images, tag, history, image inspect and rmi print what docker prints" {
  require_silo_cli
  silo_cli tag busybox silo-img:2
  run silo_cli images
  echo "$output"
  [[ "${lines[0]}" == "REPOSITORY"*"TAG"*"IMAGE ID"*"CREATED"*"SIZE" ]]
  [[ "$output" == *"silo-img"*"2"* ]]
  run silo_cli image inspect -f '{{index .RepoTags 0}}' silo-img:2
  [[ "$output" == "busybox:latest" || "$output" == "silo-img:2" ]]
  run silo_cli inspect --type image -f '{{.Os}}' silo-img:2
  [ "$output" = linux ]
  run silo_cli history -q silo-img:2
  [ "${#lines[@]}" -eq 1 ]
  run silo_cli rmi silo-img:2
  [ "$output" = "Untagged: silo-img:2" ]
  run silo_cli rmi silo-img:2
  [ "$status" -ne 0 ]
  [[ "$output" == *"No such image: silo-img:2"* ]]
}

@test "images: docker import with --change, run it; save, rmi and load it back with the same id" {
  require_docker
  tiny_rootfs tiny
  local id
  id=$(th_in_host docker -H "unix://$SOCK" import -c 'CMD ["cat","/hello"]' -m "from the test" \
    "$TH_DIR/tiny.tar" tiny:1)
  echo "import: $id"
  [[ "$id" == sha256:* ]]
  run dk run --rm --network none tiny:1
  [ "$output" = "tiny tiny" ]
  run dk history tiny:1 --format '{{.Comment}}'
  [ "$output" = "from the test" ]
  dk save -o "$TH_DIR/tiny-saved.tar" tiny:1
  tar -tf "$TH_DIR/tiny-saved.tar" | grep -q '^manifest.json$'
  dk rmi tiny:1
  run dk image inspect tiny:1
  [ "$status" -ne 0 ]
  run dk load -i "$TH_DIR/tiny-saved.tar"
  echo "$output"
  [ "$output" = "Loaded image: tiny:1" ]
  [ "$(dk image inspect tiny:1 --format '{{.Id}}')" = "$id" ]
  run dk run --rm --network none tiny:1
  [ "$output" = "tiny tiny" ]
  dk rmi tiny:1
}

@test "images: docker load of archives made by a real docker save (two images, two layers)" {
  require_docker
  run dk load -i "$SILO_ROOT/tests/fixtures/docker-save-two.tar"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Loaded image: silo-fixture:two"* ]]
  [[ "$output" == *"Loaded image: silo-fixture:one"* ]]
  [ "$(dk image inspect silo-fixture:two --format '{{len .RootFS.Layers}}')" = 2 ]
  [ "$(dk image inspect silo-fixture:two --format '{{.Id}}')" = \
    sha256:0cb7a7afb580e2c80f2c0ddc085b4b4593b9fc79d926b17e3d4a34d1f0f41f06 ]
  # The two share their base layer: it is unpacked once.
  local before
  before=$(ls "$ROOT/image/layers" | wc -l)
  dk rmi silo-fixture:two silo-fixture:one
  [ "$(ls "$ROOT/image/layers" | wc -l)" -eq $((before - 2)) ]
}

@test "images: commit makes a child image with the container's changes; silo import, save, load" {
  require_docker
  require_silo_cli
  dk run --name cm1 --network none busybox sh -c 'echo committed > /note'
  run dk commit -a tester -m "a note" -c 'CMD ["cat","/note"]' cm1 noted:1
  echo "$output"
  [ "$status" -eq 0 ]
  dk rm cm1
  run dk run --rm --network none noted:1
  [ "$output" = committed ]
  [ "$(dk image inspect noted:1 --format '{{len .RootFS.Layers}} {{.Author}}')" = "2 tester" ]
  run dk history noted:1 --format '{{.Comment}}'
  [ "${lines[0]}" = "a note" ]
  tiny_rootfs tiny2
  run silo_cli import -c 'CMD ["cat","/hello"]' "$TH_DIR/tiny2.tar" tiny2:1
  [ "$status" -eq 0 ]
  silo_cli save -o "$TH_DIR/both.tar" noted:1 tiny2:1
  silo_cli rmi noted:1 tiny2:1
  run silo_cli load -i "$TH_DIR/both.tar"
  echo "$output"
  [[ "$output" == *"Loaded image: noted:1"* ]]
  [[ "$output" == *"Loaded image: tiny2:1"* ]]
  run silo_cli run --rm --network none tiny2:1
  [ "$output" = "tiny tiny2" ]
  silo_cli rmi noted:1 tiny2:1
  run silo_cli import -c 'RUN true' "$TH_DIR/tiny2.tar" bad:1
  [ "$status" -ne 0 ]
  [[ "$output" == *"run is not a valid change command"* ]]
}

@test "images: silo save --format oci-archive writes an OCI layout that load takes back; docker save | docker load" {
  require_docker
  require_silo_cli
  tiny_rootfs oci-tiny
  local id
  id=$(silo_cli import -c 'CMD ["cat","/hello"]' "$TH_DIR/oci-tiny.tar" oci-tiny:1)
  [[ "$id" == sha256:* ]]
  run silo_cli save --format oci-archive -o "$TH_DIR/oci.tar" oci-tiny:1
  echo "$output"
  [ "$status" -eq 0 ]
  run tar -tf "$TH_DIR/oci.tar"
  echo "$output"
  grep -qx 'oci-layout' <<<"$output"
  grep -qx 'index.json' <<<"$output"
  grep -q "^blobs/sha256/${id#sha256:}$" <<<"$output"
  ! grep -qx 'manifest.json' <<<"$output"
  [ "$(tar -xOf "$TH_DIR/oci.tar" index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]')" = \
    docker.io/library/oci-tiny:1 ]
  # The other route and the default format, through the API.
  api "/images/oci-tiny:1/get?format=oci-archive" | tar -t | grep -qx 'oci-layout'
  api "/images/get?names=oci-tiny:1" | tar -t | grep -qx 'manifest.json'
  silo_cli rmi oci-tiny:1
  run silo_cli image inspect oci-tiny:1
  [ "$status" -ne 0 ]
  run silo_cli load -i "$TH_DIR/oci.tar"
  echo "$output"
  [ "$output" = "Loaded image: oci-tiny:1" ]
  [ "$(silo_cli image inspect oci-tiny:1 --format '{{.Id}}')" = "$id" ]
  run silo_cli run --rm --network none oci-tiny:1
  [ "$output" = "tiny oci-tiny" ]

  # The docker CLI: its save streams a docker-archive straight into its load, and it loads
  # the OCI archive from stdin.
  run bash -c "nsenter --net=/run/netns/$TH_NS docker -H unix://$SOCK save oci-tiny:1 |
    nsenter --net=/run/netns/$TH_NS docker -H unix://$SOCK load"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "Loaded image: oci-tiny:1" ]
  dk rmi oci-tiny:1
  run th_in_host docker -H "unix://$SOCK" load <"$TH_DIR/oci.tar"
  echo "$output"
  [ "$output" = "Loaded image: oci-tiny:1" ]
  [ "$(dk image inspect oci-tiny:1 --format '{{.Id}}')" = "$id" ]
  run dk run --rm --network none oci-tiny:1
  [ "$output" = "tiny oci-tiny" ]

  # An unknown format is refused, naming it and the two there are.
  run silo_cli save --format tarball -o "$TH_DIR/bad.tar" oci-tiny:1
  echo "$output"
  [ "$status" -eq 125 ]
  [[ "$output" == *'invalid argument "tarball" for "--format" flag: use docker-archive (the default) or oci-archive'* ]]
  [ ! -e "$TH_DIR/bad.tar" ]
  run api -w '\n%{http_code}' "/images/get?names=oci-tiny:1&format=tarball"
  echo "$output"
  [ "$(tail -1 <<<"$output")" = 400 ]
  [ "$(head -1 <<<"$output")" = '{"message":"invalid format \"tarball\": use format=docker-archive (the default) or format=oci-archive"}' ]
  dk rmi oci-tiny:1
}

@test "images: image prune removes dangling images; -a every image no container uses" {
  require_docker
  tiny_rootfs tp1
  tiny_rootfs tp2
  local dangling
  dangling=$(th_in_host docker -H "unix://$SOCK" import "$TH_DIR/tp1.tar")
  th_in_host docker -H "unix://$SOCK" import "$TH_DIR/tp2.tar" tp-tagged:1 >/dev/null
  dk create --name prune-user --network none busybox true
  run dk image prune -f
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"deleted: $dangling"* ]]
  dk image inspect tp-tagged:1 >/dev/null
  run dk image prune -a -f
  echo "$output"
  [[ "$output" == *"untagged: tp-tagged:1"* ]]
  [[ "$output" == *"Total reclaimed space:"* ]]
  # busybox is used by a container, so it stays.
  dk image inspect busybox >/dev/null
  dk rm prune-user
}

@test "images: rmi of the last name deletes the image, its layer and blobs" {
  require_docker
  local id hex layers
  id=$(dk image inspect busybox --format '{{.Id}}')
  hex=${id#sha256:}
  layers=$(ls "$ROOT/image/layers" | wc -l)
  [ "$layers" -eq 1 ]
  run dk rmi busybox
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Untagged: busybox:latest"* ]]
  [[ "$output" == *"Deleted: $id"* ]]
  [ ! -e "$ROOT/image/blobs/sha256/$hex" ]
  [ -z "$(ls "$ROOT/image/layers")" ]
  run dk run --rm --network none busybox true
  [ "$status" -ne 0 ]
  [[ "$output" == *"No such image: busybox:latest"* || "$output" == *"Unable to find image"* ]]
}

# A small rootfs tarball with busybox in it, at $TH_DIR/$1.tar.
tiny_rootfs() {
  local d="$TH_DIR/$1"
  mkdir -p "$d/bin"
  cp "$SILO_ROOTFS/bin/busybox" "$d/bin/busybox"
  ln -sf busybox "$d/bin/sh"
  ln -sf busybox "$d/bin/cat"
  echo "tiny $1" >"$d/hello"
  tar -C "$d" -cf "$TH_DIR/$1.tar" .
}
