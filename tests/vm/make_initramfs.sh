#!/usr/bin/env bash
# Builds the test VM's initramfs (newc cpio, gzip): busybox-static with its applet
# links, the given binaries in /usr/local/bin with the shared libraries they link
# (ldd, dynamic loader included), the guest /init and helper library, the
# scenario as /scenario.sh and, with --modules, the kernel modules (*.ko) in DIR
# as /lib/ballast-modules/ (guest/lib.sh loads them with insmod).
#   make_initramfs.sh [--modules DIR] OUT.img SCENARIO.sh BINARY...
set -euo pipefail

modules=
if [ "${1:-}" = --modules ]; then
  modules=$2
  shift 2
fi
out=$1 scenario=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Copies the shared libraries (and loader) a host executable needs to the same paths.
copy_libs() {
  local lib
  for lib in $(ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    if [ ! -e "$stage$lib" ]; then
      mkdir -p "$stage$(dirname "$lib")"
      cp -L "$lib" "$stage$lib"
    fi
  done
}

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,usr/lib,dev,proc,sys,run,tmp,etc,root}
cp /bin/busybox "$stage/bin/busybox"
copy_libs /bin/busybox
for applet in $("$stage/bin/busybox" --list-full); do
  [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done

for bin in "$@"; do
  dest=$stage/usr/local/bin/$(basename "$bin")
  # Debug info is not needed in the guest and makes the image several times larger.
  strip --strip-debug -o "$dest" "$bin" 2>/dev/null || cp "$bin" "$dest"
  copy_libs "$bin"
done

if [ -n "$modules" ]; then
  mkdir -p "$stage/lib/ballast-modules"
  cp "$modules"/*.ko "$stage/lib/ballast-modules/"
fi

cp "$here/guest/init" "$stage/init"
cp "$here/guest/lib.sh" "$stage/usr/lib/ballast-vm.sh"
cp "$scenario" "$stage/scenario.sh"
chmod 755 "$stage/init" "$stage/scenario.sh"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"
echo "127.0.0.1 localhost" >"$stage/etc/hosts"
# The kernel opens /dev/console for /init; without the node (not root) /init reopens it.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

(cd "$stage" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.part"
mv "$out.part" "$out"
