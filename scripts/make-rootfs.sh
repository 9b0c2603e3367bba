#!/usr/bin/env bash
# Builds the base image seed: a root filesystem holding Debian's static busybox and a
# symlink per applet, so containers can run with no registry. Usage: make-rootfs.sh DIR
set -euo pipefail
dest=${1:?usage: make-rootfs.sh DIR}
bb=/bin/busybox
if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
  echo "make-rootfs: $bb is not the static busybox; install the busybox-static package (make deps)" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "${dest%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,var,run}
chmod 1777 "$tmp/tmp"
cp "$bb" "$tmp/bin/busybox"
# busybox --list-full prints each applet with its install directory (bin/ls, usr/bin/env...).
"$tmp/bin/busybox" --list-full | while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  mkdir -p "$tmp/$(dirname "$applet")"
  ln -sf /bin/busybox "$tmp/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$tmp/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$tmp/etc/group"
echo silo >"$tmp/etc/hostname"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "rootfs: $dest ($(find "$dest" -type l | wc -l) applets)"
