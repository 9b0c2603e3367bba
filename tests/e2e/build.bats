#!/usr/bin/env bats
# docker build through silod (POST /build, the classic builder): the docker CLI and
# `silo build` against a daemon in a throwaway test host. Steps, the layer cache (an
# unchanged rebuild reuses every step), RUN output and failures, COPY/ADD (tar
# auto-extract, --chown, .dockerignore), ARG/--build-arg, multi-stage with --from and
# --target, FROM scratch, and intermediate images that leave with the image built on them.

load ../lib/daemon

setup_file() { daemon_setup_file; }
teardown_file() { daemon_teardown_file; }
setup() {
  daemon_require
  require_shim
}

dk() { DOCKER_BUILDKIT=0 docker_cli "$@"; }

teardown() {
  local t
  for t in bt-web:1 bt-web:2 bt-args bt-multi bt-multi-target bt-scratch bt-ignore bt-fail \
    bt-silo bt-chown bt-meta; do docker_cli rmi -f "$t" >/dev/null 2>&1 || true; done
  # Containers a failed step leaves behind (docker keeps them without --force-rm).
  local ids
  ids=$(docker_cli ps -aq 2>/dev/null || true)
  [ -z "$ids" ] || docker_cli rm -f $ids >/dev/null 2>&1 || true
}

# web_context DIR: the context of the RUN + EXPOSE 80 + CMD image.
web_context() {
  local d=$1
  mkdir -p "$d/dir/sub" "$d/pack/inner"
  echo hello >"$d/hello.txt"
  echo nested >"$d/dir/sub/n.txt"
  echo packed >"$d/pack/inner/p.txt"
  tar -C "$d/pack" -czf "$d/files.tar.gz" inner
  rm -rf "$d/pack"
  cat >"$d/Dockerfile" <<'DF'
FROM busybox
ARG GREETING=hello
ENV APP=/app
WORKDIR $APP
COPY hello.txt .
COPY dir/ ./dir/
ADD files.tar.gz /unpacked/
RUN echo "$GREETING from run" > /app/run.txt && ls /app
EXPOSE 80
LABEL org.example.kind=web
CMD ["cat", "/app/run.txt"]
DF
}

@test "build: RUN, EXPOSE 80 and CMD build and run; an unchanged rebuild reuses every step" {
  require_docker
  local ctx=$TH_DIR/web
  web_context "$ctx"
  run dk build -t bt-web:1 "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Step 1/11 : FROM busybox"* ]]
  [[ "$output" == *"Step 8/11 : RUN echo"* ]]
  [[ "$output" == *" ---> Running in "* ]]
  [[ "$output" == *"dir"*"hello.txt"* ]]  # the RUN's own output (ls /app)
  [[ "$output" == *"Successfully built "* ]]
  [[ "$output" == *"Successfully tagged bt-web:1"* ]]
  local id
  id=$(dk image inspect bt-web:1 --format '{{.Id}}')

  run dk run --rm --network none bt-web:1
  [ "$output" = "hello from run" ]
  run dk run --rm --network none bt-web:1 sh -c \
    'cat /app/hello.txt /app/dir/sub/n.txt /unpacked/inner/p.txt; pwd; echo $APP'
  echo "$output"
  [ "$output" = "$(printf 'hello\nnested\npacked\n/app\n/app')" ]
  run dk image inspect bt-web:1 --format '{{json .Config.ExposedPorts}} {{json .Config.Cmd}} {{index .Config.Labels "org.example.kind"}} {{.Config.WorkingDir}}'
  echo "$output"
  [ "$output" = '{"80/tcp":{}} ["cat","/app/run.txt"] web /app' ]
  run dk history bt-web:1 --format '{{.CreatedBy}}' --no-trunc
  echo "$output"
  [[ "$output" == *'/bin/sh -c #(nop)  CMD ["cat" "/app/run.txt"]'* ]]
  [[ "$output" == *'|1 GREETING=hello /bin/sh -c echo "$GREETING from run"'* ]]

  # The same context again: every step after FROM comes from the cache, same image.
  run dk build -t bt-web:2 "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 10 ]
  [[ "$output" != *"Running in"* ]]
  [ "$(dk image inspect bt-web:2 --format '{{.Id}}')" = "$id" ]

  # A changed file: the steps before its COPY still hit, the rest run again.
  echo changed >"$ctx/hello.txt"
  run dk build -t bt-web:2 "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c -- '---> Using cache' <<<"$output")" -eq 3 ]
  [ "$(dk image inspect bt-web:2 --format '{{.Id}}')" != "$id" ]
  run dk run --rm --network none bt-web:2 cat /app/hello.txt
  [ "$output" = changed ]
}

@test "build: --build-arg, a failing RUN with dockerd's message, and what the failed step leaves" {
  require_docker
  local ctx=$TH_DIR/args
  mkdir -p "$ctx"
  cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
ARG WHO=nobody
RUN echo "hi $WHO" > /who
CMD ["cat", "/who"]
DF
  run dk build -q --build-arg WHO=alice --build-arg UNUSED=1 -t bt-args "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  # (newer docker CLIs print a legacy-builder notice on stderr first)
  [[ "$(tail -n 1 <<<"$output")" == sha256:* ]]
  run dk run --rm --network none bt-args
  [ "$output" = "hi alice" ]

  cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
RUN echo about to fail && exit 3
DF
  run dk build -t bt-fail "$ctx"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"about to fail"* ]]
  [[ "$output" == *"The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3"* ]]
  run dk image inspect bt-fail
  [ "$status" -ne 0 ]
  # Without --force-rm the failed step's container stays, as with dockerd.
  [ -n "$(dk ps -aq)" ]
  dk rm -f $(dk ps -aq) >/dev/null
  run dk build --force-rm -t bt-fail "$ctx"
  [ "$status" -eq 1 ]
  [ -z "$(dk ps -aq)" ]
  # A Dockerfile error is an error response before any step.
  printf 'FROM busybox\nFORM x\n' >"$ctx/Dockerfile"
  run dk build "$ctx"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"unknown instruction: FORM"* ]]
}

@test "build: multi-stage with COPY --from, --target, FROM scratch and .dockerignore" {
  require_docker
  local ctx=$TH_DIR/multi
  mkdir -p "$ctx/secret"
  echo keep >"$ctx/keep.txt"
  echo no >"$ctx/secret/key"
  echo no >"$ctx/drop.log"
  printf 'secret\n*.log\n' >"$ctx/.dockerignore"
  cat >"$ctx/Dockerfile" <<'DF'
FROM busybox AS build
COPY . /ctx/
RUN echo built > /out && ls -a /ctx > /listing

FROM scratch
COPY --from=build /bin/busybox /bin/busybox
COPY --from=build /out /listing /
CMD ["/bin/busybox", "cat", "/out", "/listing"]
DF
  run dk build -t bt-multi "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  run dk run --rm --network none bt-multi
  echo "$output"
  [[ "$output" == *"built"* ]]
  [[ "$output" == *"keep.txt"* ]]
  [[ "$output" == *"Dockerfile"* ]]
  [[ "$output" != *"secret"* ]]
  [[ "$output" != *"drop.log"* ]]
  # The final stage has only its own two layers.
  [ "$(dk image inspect bt-multi --format '{{len .RootFS.Layers}}')" -eq 2 ]
  run dk build --target build -t bt-multi-target "$ctx"
  [ "$status" -eq 0 ]
  run dk run --rm --network none bt-multi-target cat /out
  [ "$output" = built ]
  run dk build --target nope "$ctx"
  [ "$status" -ne 0 ]
  [[ "$output" == *"failed to reach build target nope in Dockerfile"* ]]
}

@test "build: silo build, COPY --chown, and intermediate images go with the image" {
  require_silo_cli
  local ctx=$TH_DIR/silo
  mkdir -p "$ctx"
  echo data >"$ctx/f"
  cat >"$ctx/Dockerfile" <<'DF'
FROM busybox
COPY --chown=1000:1001 f /owned/f
COPY --chown=1234 f /owned/g
RUN stat -c '%u:%g' /owned/f /owned/g | tr '\n' ' ' > /owner
CMD ["cat", "/owner"]
DF
  run silo_cli build -t bt-silo "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Sending build context to Docker daemon"* ]]
  [[ "$output" == *"Successfully tagged bt-silo:latest"* ]]
  run silo_cli run --rm --network none bt-silo
  # A uid without a group is the group too, as Docker's --chown.
  [ "$output" = "1000:1001 1234:1234 " ]
  # The intermediate images show with -a only; rmi takes them along.
  local all plain
  all=$(silo_cli images -aq | sort -u | wc -l)
  plain=$(silo_cli images -q | sort -u | wc -l)
  [ "$all" -gt "$plain" ]
  run silo_cli rmi bt-silo
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c '^Deleted: ' <<<"$output")" -ge 3 ]
  [ "$(silo_cli images -aq | sort -u | wc -l)" -eq $((plain - 1)) ]
}

@test "build: exec-form RUN, USER, SHELL, ONBUILD, VOLUME, STOPSIGNAL, HEALTHCHECK, ENTRYPOINT" {
  require_docker
  local ctx=$TH_DIR/meta
  mkdir -p "$ctx"
  cat >"$ctx/Dockerfile" <<'DF'
FROM busybox AS base
ONBUILD RUN echo triggered > /onbuild
FROM base
RUN ["/bin/sh", "-c", "echo exec-form > /exec"]
RUN mkdir /w && chmod 777 /w
USER 1234
RUN id -u > /w/uid
USER root
SHELL ["/bin/sh", "-e", "-c"]
RUN echo shell-form > /shell
VOLUME /data
STOPSIGNAL SIGUSR1
HEALTHCHECK --interval=5s --retries=2 CMD true
ENTRYPOINT ["cat"]
CMD ["/exec"]
DF
  run dk build -t bt-meta "$ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"# Executing 1 build trigger"* ]]
  run dk run --rm --network none bt-meta
  [ "$output" = exec-form ]
  run dk run --rm --network none bt-meta /onbuild /shell /w/uid
  echo "$output"
  [ "$output" = "$(printf 'triggered\nshell-form\n1234')" ]
  run dk image inspect bt-meta --format '{{json .Config.Volumes}} {{.Config.StopSignal}} {{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Retries}} {{json .Config.Entrypoint}} {{.Config.User}} {{json .Config.Shell}} {{json .Config.OnBuild}}'
  echo "$output"
  [ "$output" = '{"/data":{}} SIGUSR1 5s 2 ["cat"] root ["/bin/sh","-e","-c"] null' ]
  run dk history bt-meta --format '{{.CreatedBy}}' --no-trunc
  [[ "$output" == *'/bin/sh -e -c echo shell-form > /shell'* ]]
  dk rmi bt-meta >/dev/null
}
