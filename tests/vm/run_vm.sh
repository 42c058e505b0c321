#!/usr/bin/env bash
# Runs one VM test scenario: fetches the Debian 6.1 kernel (cached), builds an
# initramfs with the scenario, the binaries it names and the kernel modules
# guest/lib.sh loads (zram for swap_on, null_blk for null_blk_on), boots it
# under qemu TCG,
# kills the guest at a time limit, prints the figures and exits 0 only if the
# guest reports "BALLAST-VM-RESULT: PASS". On failure the console output is shown.
#   run_vm.sh CACHE_DIR WORK_DIR TIME_LIMIT_S SCENARIO.sh BINARY...
set -euo pipefail

cache=$1 work=$2 limit=$3 scenario=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)

for tool in qemu-system-x86_64 busybox cpio apt-get dpkg; do
  command -v "$tool" >/dev/null || { echo "run_vm: $tool is missing (deploy/dev.sh installs it)"; exit 1; }
done

mkdir -p "$work"
kernel=$("$here/fetch_kernel.sh" "$cache")
"$here/make_initramfs.sh" --modules "$cache/modules" "$work/initrd.img" "$scenario" "$@"
echo "run_vm: kernel $(cat "$cache/package"), initrd $(du -h "$work/initrd.img" | cut -f1), limit ${limit}s"

console=$work/console.log
t0=$(date +%s.%N)
rc=0
# One host thread runs both vCPUs: with a thread each (MTTCG), the kernel's
# live patching of a hot site (text_poke_bp: attaching tp_btf programs to
# sched_switch or sched_wakeup, enabling syscall tracepoints) has left the
# other vCPU spinning on the old code for good, a soft lockup of the guest:
# in 2 of 5 runs of 8 agent starts under load. Single-threaded, none in 2
# such runs; about 1.3x the wall time. loglevel=5: soft lockup and oops
# call traces reach the console, boot chatter does not.
timeout -k 10 "$limit" qemu-system-x86_64 -accel tcg,thread=single -m 1024 -smp 2 \
  -kernel "$kernel" -initrd "$work/initrd.img" \
  -append "console=ttyS0 panic=-1 loglevel=5" \
  -nographic -no-reboot -nodefaults -serial stdio </dev/null >"$console" 2>&1 || rc=$?
wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

tr -d '\r' <"$console" | grep -o 'BALLAST-VM-FIGURE: .*' || true
echo "BALLAST-VM-FIGURE: vm_wall_s=$wall"
result=$(tr -d '\r' <"$console" | grep -o 'BALLAST-VM-RESULT: .*' | tail -n 1 || true)
if [ "$result" = "BALLAST-VM-RESULT: PASS" ]; then
  echo "$result"
  exit 0
fi

echo "---- console ($console) ----"
tr -d '\r' <"$console"
echo "---- end of console ----"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "run_vm: FAIL: guest killed at the time limit of ${limit}s"
elif [ -n "$result" ]; then
  echo "run_vm: FAIL: guest reported: ${result#BALLAST-VM-RESULT: }"
else
  echo "run_vm: FAIL: qemu exited with status $rc without a result"
fi
exit 1
