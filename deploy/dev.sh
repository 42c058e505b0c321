#!/usr/bin/env bash
# Set-up for a Debian 12 machine, from a fresh clone:
#   deploy/dev.sh run    install what is missing, build, run ballastd on its
#                        embedded default config (as root)
#   deploy/dev.sh test   install what is missing, build, run every test
#   deploy/dev.sh build  install what is missing and build
#   deploy/dev.sh sanitize  the unit, actor and host tests again in an
#                        ASan+UBSan build (build-asan/); a report fails them
# Everything comes from Debian packages; nothing else is downloaded.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

PACKAGES=(cmake g++ make pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
          libcaf-dev libssl-dev nlohmann-json3-dev prometheus-cpp-dev libgtest-dev
          qemu-system-x86 busybox-static cpio)
# Deploy and prom tests: python3-yaml reads the manifests, prometheus is a
# real server (and promtool) for the dashboards' queries.
PACKAGES+=(python3-yaml prometheus)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

build() {
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  cmake --build "$BUILD_DIR" -j "$(nproc)"
}

case "${1:-}" in
  run)
    install_missing
    build
    shift
    if [ "$(id -u)" -eq 0 ]; then exec "$BUILD_DIR/apps/ballastd" "$@"; fi
    exec sudo "$BUILD_DIR/apps/ballastd" "$@"
    ;;
  test)
    install_missing
    build
    cd "$BUILD_DIR"
    ctest --output-on-failure --timeout 600
    ;;
  build)
    install_missing
    build
    ;;
  sanitize)
    install_missing
    BUILD_DIR=build-asan
    build -DBALLAST_SANITIZE=address,undefined
    cd "$BUILD_DIR"
    ctest --output-on-failure --timeout 600 -L 'unit|actor|host'
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
