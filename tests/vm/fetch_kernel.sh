#!/usr/bin/env bash
# Fetches the newest Debian linux-image-6.1.0-*-amd64 once into a cache directory
# (apt-get download + dpkg -x), keeps its vmlinuz, config and the modules the
# guest loads itself (modules/zsmalloc.ko, modules/zram.ko: zram swap, see
# swap_on in guest/lib.sh; configfs.ko, null_blk.ko: a block device with a
# set latency and queue depth, see null_blk_on), and prints the vmlinuz path.
# Later calls reuse the
# cache without asking apt anything; a cache without the modules (made before
# they were kept) is fetched again, kernel included, so all come from one .deb.
#   fetch_kernel.sh CACHE_DIR
set -euo pipefail

cache=$1
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# Kept uncompressed whatever the .deb holds: busybox insmod may not read .ko.xz.
modules="zsmalloc zram configfs null_blk"

complete() {
  local m
  [ -f "$cache/vmlinuz" ] || return 1
  for m in $modules; do
    [ -f "$cache/modules/$m.ko" ] || return 1
  done
}

if ! complete; then
  if [ -f "$cache/vmlinuz" ]; then
    echo "fetch_kernel: the cache has no modules/{${modules// /,}}.ko; fetching the kernel again" >&2
  fi
  pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' |
        sort -V | tail -n 1)
  if [ -z "$pkg" ]; then
    echo "fetch_kernel: apt knows no linux-image-6.1.0-*-amd64 (run apt-get update)" >&2
    exit 1
  fi
  tmp=$(mktemp -d "$cache/fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch_kernel: downloading $pkg" >&2
  (cd "$tmp" && apt-get download -q "$pkg" >&2)
  dpkg -x "$tmp"/*.deb "$tmp/root"
  mkdir "$tmp/modules"
  for m in $modules; do
    ko=$(find "$tmp/root" -path '*/lib/modules/*' \( -name "$m.ko" -o -name "$m.ko.*" \) | head -n 1)
    case $ko in
      "") echo "fetch_kernel: $pkg has no $m.ko (built in? guest/lib.sh loads it)" >&2
          exit 1 ;;
      *.ko) cp "$ko" "$tmp/modules/$m.ko" ;;
      *.ko.xz) xz -dc "$ko" >"$tmp/modules/$m.ko" ;;
      *.ko.zst) zstd -dcq "$ko" >"$tmp/modules/$m.ko" ;;
      *.ko.gz) gzip -dc "$ko" >"$tmp/modules/$m.ko" ;;
      *) echo "fetch_kernel: $ko: unknown module compression" >&2
         exit 1 ;;
    esac
  done
  # vmlinuz goes last: it marks a complete cache, so an interrupted fetch is redone.
  rm -f "$cache/vmlinuz"
  cp "$tmp"/root/boot/config-* "$cache/config"
  rm -rf "$cache/modules"
  mv "$tmp/modules" "$cache/modules"
  cp "$tmp"/root/boot/vmlinuz-* "$cache/vmlinuz.part"
  echo "$pkg" >"$cache/package"
  mv "$cache/vmlinuz.part" "$cache/vmlinuz"
fi
echo "$cache/vmlinuz"
