#!/bin/sh
# VM scenario for bench/vm_bench.sh journal: agent_bench journal inside the
# test VM (the host has no memory controller on cgroup2); its JSON goes to the
# host as the figure "journal_json". Not a CTest test.
. /usr/lib/ballast-vm.sh

export BALLASTD_PATH=/usr/local/bin/ballastd
echo "+memory" >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable memory in the root"
json=$(agent_bench journal --cycles 100000) || fail "agent_bench journal failed: $json"
figure journal_json "$json"
