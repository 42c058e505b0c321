#!/bin/sh
# VM scenario 3: the foundation's host tests (ballastd as a process: BPF events
# from real cgroups and processes, actors back to zero, nothing lost, SIGTERM,
# SIGHUP good and broken, a taken port, journal replay) on the 6.1 kernel.
# A skipped test is a failure here: the guest runs as root with BPF.
. /usr/lib/ballast-vm.sh

# Not the soak: under TCG its 3,000 cycles take 75 s, and the agent's RSS
# grew 1.9 MiB there over 2,000 cycles (12-56 KiB on the host, 332 KiB over
# 100,000 in bench/agent_bench soak): not understood yet, see the closing
# note of issue 7. It runs on the host kernel. Nor the ring-buffer overflow:
# under TCG the burst is slow enough that even a 4 KiB ring never fills (0
# records lost, seen in CI), so there is nothing to repair.
BALLASTD_PATH=/usr/local/bin/ballastd host_tests \
  --gtest_filter='AgentHostTest.*:-AgentHostTest.ASoak*:AgentHostTest.ARingBufferOverflow*' \
  --gtest_color=no >/tmp/host_tests.log 2>&1
rc=$?
grep -v '^20..-' /tmp/host_tests.log
[ "$rc" -eq 0 ] || fail "host tests failed on $(uname -r)"
grep -q '^\[  SKIPPED' /tmp/host_tests.log && fail "host tests skipped on $(uname -r)"
exit 0
