#!/usr/bin/env bash
# Set-up for a Debian 12 machine, from a fresh clone:
#   deploy/dev.sh run    install what is missing, build, run ballastd on its
#                        embedded default config (as root)
#   deploy/dev.sh test   install what is missing, build, run every test
#   deploy/dev.sh build  install what is missing and build
#   deploy/dev.sh sanitize  the unit, actor and host tests again in an
#                        ASan+UBSan build (build-asan/); a report fails them
#   deploy/dev.sh tsan   the actor tests in a ThreadSanitizer build (build-tsan/)
#   deploy/dev.sh fuzz   each libFuzzer target for a bounded time, clang build
#                        with ASan+UBSan (build-fuzz/); a crash fails it
#   deploy/dev.sh format every C++ file as .clang-format says (clang-format
#                        14), or the files that are not, and a non-zero exit
# Everything comes from Debian packages; nothing else is downloaded.
# JOBS=N sets the build's parallelism (default: every core).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

PACKAGES=(cmake g++ make pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
          libcaf-dev libssl-dev nlohmann-json3-dev prometheus-cpp-dev libgtest-dev
          qemu-system-x86 busybox-static cpio)
# Deploy and prom tests: python3-yaml reads the manifests, prometheus is a
# real server (and promtool) for the dashboards' queries.
PACKAGES+=(python3-yaml prometheus)
# Control and fleet tests: certificates from the openssl CLI, network
# namespaces (ip, nsenter).
PACKAGES+=(openssl iproute2 util-linux)
# Fuzzing: clang++-14 and its runtimes (libFuzzer, ASan, UBSan); the format check.
PACKAGES+=(clang-14 libclang-rt-14-dev clang-format-14)

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
  cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" ${TARGETS:+--target $TARGETS}
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
    build -DBALLAST_SANITIZE=address,undefined -DBALLAST_BENCH=OFF
    cd "$BUILD_DIR"
    ctest --output-on-failure --timeout 600 -L 'unit|actor|host'
    ;;
  tsan)
    # GCC 12's TSan runtime cannot place its shadow memory when the kernel
    # randomises mmap with more than 28 bits ("FATAL: ThreadSanitizer:
    # unexpected memory mapping"): then all of this runs without ASLR.
    if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ] &&
       [ -z "${BALLAST_NO_ASLR:-}" ]; then
      exec env BALLAST_NO_ASLR=1 setarch "$(uname -m)" -R deploy/dev.sh tsan
    fi
    install_missing
    BUILD_DIR=build-tsan
    TARGETS=actor_tests build -DBALLAST_SANITIZE=thread
    cd "$BUILD_DIR"
    # A report makes its test exit non-zero. CAF's hand-offs are annotated
    # (tests/support/caf_tsan_sync.cpp); tests/tsan.supp holds what is left.
    TSAN_OPTIONS="suppressions=$PWD/../tests/tsan.supp second_deadlock_stack=1" \
      ctest --output-on-failure --timeout 600 -L actor
    ;;
  fuzz)
    install_missing
    BUILD_DIR=build-fuzz
    TARGETS=fuzz_targets build -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
      -DBALLAST_FUZZ=ON -DBALLAST_SANITIZE=address,undefined
    cd "$BUILD_DIR"
    ctest --output-on-failure -L fuzz
    ;;
  format)
    install_missing
    # The tracked files; outside a git checkout, every .cpp/.hpp but build trees.
    files=$(git ls-files '*.cpp' '*.hpp' 2>/dev/null ||
            find . -path './build*' -prune -o \( -name '*.cpp' -o -name '*.hpp' \) -print)
    bad=$(echo "$files" | xargs clang-format-14 --dry-run --Werror 2>&1 |
          grep -E '^[^:]+:[0-9]+:[0-9]+: error' | cut -d: -f1 | sort -u || true)
    if [ -n "$bad" ]; then
      echo "$bad" | sed 's/$/: not formatted (clang-format-14 -i FILE)/' >&2
      exit 1
    fi
    ;;
  *)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
