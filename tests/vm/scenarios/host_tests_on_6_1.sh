#!/bin/sh
# VM scenario 3: the foundation's host tests (ballastd as a process: BPF events
# from real cgroups and processes, actors back to zero, nothing lost, SIGTERM,
# SIGHUP good and broken, a taken port, journal replay) on the 6.1 kernel.
# A skipped test is a failure here: the guest runs as root with BPF.
. /usr/lib/ballast-vm.sh

BALLASTD_PATH=/usr/local/bin/ballastd host_tests --gtest_filter='AgentHostTest.*' \
  --gtest_color=no >/tmp/host_tests.log 2>&1
rc=$?
grep -v '^20..-' /tmp/host_tests.log
[ "$rc" -eq 0 ] || fail "host tests failed on $(uname -r)"
grep -q '^\[  SKIPPED' /tmp/host_tests.log && fail "host tests skipped on $(uname -r)"
exit 0
