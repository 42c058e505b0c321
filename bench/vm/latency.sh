#!/bin/sh
# VM scenario for bench/vm_bench.sh latency: agent_bench latency inside the test VM
# (qemu TCG, Debian 6.1 kernel); its JSON goes to the host as the figure
# "latency_json". Not a CTest test.
. /usr/lib/ballast-vm.sh

export BALLASTD_PATH=/usr/local/bin/ballastd
json=$(agent_bench latency --events 1000 --rate 100) || fail "agent_bench latency failed: $json"
figure latency_json "$json"
