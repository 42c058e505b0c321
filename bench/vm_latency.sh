#!/usr/bin/env bash
# The latency benchmark (agent_bench latency --events 1000 --rate 100) inside the
# test VM of tests/vm (qemu TCG, Debian 6.1 kernel, kernel cached in
# BUILD_DIR/vm-cache). Prints the benchmark's JSON on stdout, the VM's output on
# stderr. Figures from TCG are only comparable with other VM runs, not the host's.
#   bench/vm_latency.sh [BUILD_DIR]    (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-build}" && pwd)
out=$(bash "$here/../tests/vm/run_vm.sh" "$build/vm-cache" "$build/bench/vm-latency" "${LIMIT:-900}" \
        "$here/vm/latency.sh" "$build/bench/agent_bench" "$build/apps/ballastd") || {
  echo "$out" >&2
  exit 1
}
echo "$out" >&2
echo "$out" | sed -n 's/^BALLAST-VM-FIGURE: latency_json=//p' | grep . || {
  echo "vm_latency: no latency_json figure from the guest" >&2
  exit 1
}
