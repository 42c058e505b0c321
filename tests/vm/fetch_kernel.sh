#!/usr/bin/env bash
# Fetches the newest Debian linux-image-6.1.0-*-amd64 once into a cache directory
# (apt-get download + dpkg -x), keeps its vmlinuz and config, and prints the
# vmlinuz path. Later calls reuse the cache without asking apt anything.
#   fetch_kernel.sh CACHE_DIR
set -euo pipefail

cache=$1
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

if [ ! -f "$cache/vmlinuz" ]; then
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
  cp "$tmp"/root/boot/config-* "$cache/config"
  cp "$tmp"/root/boot/vmlinuz-* "$cache/vmlinuz.part"
  echo "$pkg" >"$cache/package"
  mv "$cache/vmlinuz.part" "$cache/vmlinuz"
fi
echo "$cache/vmlinuz"
