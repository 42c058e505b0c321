#!/usr/bin/env bash
# A benchmark inside the test VM of tests/vm (qemu TCG, Debian 6.1 kernel, the
# kernel cached in BUILD_DIR/vm-cache): boots the VM with the scenario
# bench/vm/NAME.sh and prints the JSON it reports (the figure NAME_json) on
# stdout, the VM's output on stderr. Figures from TCG are only comparable with
# other VM runs, not with the host's.
#   bench/vm_bench.sh latency|memory|cpu|journal|jobs [BUILD_DIR]    (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: vm_bench.sh latency|memory|cpu|journal|jobs [BUILD_DIR]}
[ -f "$here/vm/$name.sh" ] || { echo "vm_bench: no scenario bench/vm/$name.sh" >&2; exit 2; }
build=$(cd "${2:-build}" && pwd)
out=$(bash "$here/../tests/vm/run_vm.sh" "$build/vm-cache" "$build/bench/vm-$name" "${LIMIT:-900}" \
        "$here/vm/$name.sh" "$build/bench/agent_bench" "$build/apps/ballastd" \
        "$build/tests/ballast-memhog" "$build/tests/ballast-schedload" "$build/apps/ballastctl" \
        "$build/apps/ballast-job-shim") || {
  echo "$out" >&2
  exit 1
}
echo "$out" >&2
echo "$out" | sed -n "s/^BALLAST-VM-FIGURE: ${name}_json=//p" | grep . || {
  echo "vm_bench: no ${name}_json figure from the guest" >&2
  exit 1
}
