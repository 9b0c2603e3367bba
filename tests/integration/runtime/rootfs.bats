#!/usr/bin/env bats
# The container's filesystem: root, mounts, masked and readonly paths, /dev, sysctls.
# Mount destinations are directories the busybox seed already has (/tmp, /home, /root):
# a runtime creates missing mount points inside the rootfs, which is the shared seed.

load ../../lib/testhost

setup() { th_setup_one; }
teardown() { testhost_teardown; }

@test "a readonly root filesystem rejects writes" {
  run_in_container 'touch /x; echo rc=$?' '.root.readonly = true'
  [ "$status" -eq 0 ]
  [[ "$output" == *"Read-only file system"* ]]
  [ "${lines[-1]}" != rc=0 ]
  [ ! -e "$SILO_ROOTFS/x" ]
}

@test "a tmpfs mount from the config is writable on a readonly root" {
  run_in_container 'echo hello > /tmp/f && cat /tmp/f && grep " /tmp " /proc/mounts' \
    '.mounts += [{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev","mode=1777"]}]'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = hello ]
  [[ "${lines[1]}" == "tmpfs /tmp tmpfs "* ]]
}

@test "a bind mount of a host dir is writable and writes show on the host" {
  mkdir "$TH_DIR/share"
  run_in_container 'echo from-container > /home/f && echo ok' \
    ".mounts += [{\"destination\":\"/home\",\"type\":\"bind\",\"source\":\"$TH_DIR/share\",\"options\":[\"rbind\",\"rw\"]}]"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  [ "$(cat "$TH_DIR/share/f")" = from-container ]
}

@test "a readonly bind mount can be read but not written" {
  mkdir "$TH_DIR/share"
  echo from-host >"$TH_DIR/share/f"
  run_in_container 'cat /home/f; touch /home/g; echo rc=$?' \
    ".mounts += [{\"destination\":\"/home\",\"type\":\"bind\",\"source\":\"$TH_DIR/share\",\"options\":[\"rbind\",\"ro\"]}]"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = from-host ]
  [[ "$output" == *"Read-only file system"* ]]
  [ "${lines[-1]}" != rc=0 ]
  [ ! -e "$TH_DIR/share/g" ]
}

@test "a masked file reads empty" {
  # /proc/kcore is the usual example; this kernel may not have it, /proc/timer_list is
  # masked by the default spec as well and is never empty.
  [ "$(head -c 16 /proc/timer_list | wc -c)" -gt 0 ] || skip "skipped, because /proc/timer_list is empty on this host"
  run_in_container 'wc -c < /proc/timer_list' '.linux.maskedPaths = ["/proc/kcore", "/proc/timer_list"]'
  [ "$status" -eq 0 ]
  [ "$output" -eq 0 ]
}

@test "a masked directory is empty" {
  [ -n "$(ls /proc/bus)" ] || skip "skipped, because /proc/bus is empty on this host"
  run_in_container 'ls -A /proc/bus | wc -l; ls -d /proc/bus' '.linux.maskedPaths = ["/proc/scsi", "/proc/bus"]'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" -eq 0 ]
  [ "${lines[1]}" = /proc/bus ]
}

@test "a readonly path rejects writes" {
  # The hostname sysctl belongs to the container's uts namespace, so nothing outside
  # would change even if the write went through.
  run_in_container 'echo changed > /proc/sys/kernel/hostname; echo rc=$?; hostname' \
    '.hostname = "silo-box"' '.linux.readonlyPaths = ["/proc/sys"]'
  [ "$status" -eq 0 ]
  [[ "$output" == *"Read-only file system"* ]]
  [ "${lines[-2]}" != rc=0 ]
  [ "${lines[-1]}" = silo-box ]
}

@test "the default device nodes exist and work" {
  run_in_container '
    for d in /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; do
      [ -c $d ] || echo "missing char device $d"
    done
    [ -e /dev/ptmx ] || echo "missing /dev/ptmx"
    for l in /dev/fd /dev/stdin /dev/stdout /dev/stderr; do
      [ -L $l ] && echo "$l -> $(readlink $l)" || echo "missing symlink $l"
    done
    echo x > /dev/null || echo "write to /dev/null failed"
    echo "zero bytes: $(head -c 4 /dev/zero | wc -c)"
    echo "urandom bytes: $(head -c 4 /dev/urandom | wc -c)"
    echo x 2>/dev/null > /dev/full && echo "write to /dev/full succeeded"
    echo done'
  [ "$status" -eq 0 ]
  [[ "$output" != *missing* ]]
  [[ "$output" != *failed* ]]
  [[ "$output" != *succeeded* ]]
  [[ "$output" == *"/dev/fd -> /proc/self/fd"* ]]
  [[ "$output" == *"/dev/stdin -> /proc/self/fd/0"* ]]
  [[ "$output" == *"/dev/stdout -> /proc/self/fd/1"* ]]
  [[ "$output" == *"/dev/stderr -> /proc/self/fd/2"* ]]
  [[ "$output" == *"zero bytes: 4"* ]]
  [[ "$output" == *"urandom bytes: 4"* ]]
  [ "${lines[-1]}" = done ]
}

@test "a device from linux.devices is created and works" {
  run_in_container 'stat -c "%F %t:%T %a" /dev/silo-null && echo x > /dev/silo-null && wc -c < /dev/silo-null' \
    '.linux.devices += [{"path":"/dev/silo-null","type":"c","major":1,"minor":3,"fileMode":438,"uid":0,"gid":0}]'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "character special file 1:3 666" ]
  [ "${lines[1]}" -eq 0 ]
}

@test "a sysctl is applied in the container's network namespace only" {
  host_before=$(cat /proc/sys/net/ipv4/ip_forward)
  th_before=$(th_exec cat /proc/sys/net/ipv4/ip_forward)
  run_in_container 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_default_ttl' \
    '.linux.sysctl = {"net.ipv4.ip_forward": "1", "net.ipv4.ip_default_ttl": "42"}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 42 ]
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_before" ]
  [ "$(th_exec cat /proc/sys/net/ipv4/ip_forward)" = "$th_before" ]
  [ "$(th_exec cat /proc/sys/net/ipv4/ip_default_ttl)" != 42 ]
}

@test "/proc is mounted and shows the container's pid 1" {
  run_in_container 'grep "^proc /proc proc " /proc/mounts >/dev/null && echo proc-mounted; cat /proc/1/comm; ls -d /proc/[0-9]* | wc -l'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = proc-mounted ]
  [ "${lines[1]}" = sh ]
  # Only the container's own processes: sh, and ls/wc of the pipeline.
  [ "${lines[2]}" -le 4 ]
}

@test "rootfsPropagation rslave is accepted" {
  run_in_container 'echo ok' '.linux.rootfsPropagation = "rslave"'
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
}

@test "a failing mount names the step, the host path and the errno" {
  th_is_silo || skip "skipped, because the message format is silo-runc's"
  b=$(th_sh_bundle b 'echo never' '.mounts += [{"destination":"/mnt","type":"silo-nofs","source":"none"}]')
  run th_rt run --bundle "$b" "$C"
  echo "status=$status output=$output"
  [ "$status" -ne 0 ]
  root=$(jq -r .root.path "$b/config.json")
  [[ "$output" == *"mount none on $root/mnt (type silo-nofs): ENODEV"* ]]
  [[ "$output" != *never* ]]
}
