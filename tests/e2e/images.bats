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
  for t in img-a:1 localhost:5000/team/img-b silo-img:2; do docker_cli rmi "$t" >/dev/null 2>&1 || true; done
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
