#!/bin/sh
# VM scenario: cpu_backoff with the cpu controller on 6.1, 2 vCPUs. Two
# spinners in /jobs/batch (the policy's) and two in /jobs/other, which it
# protects: other's CPU pressure takes batch's cpu.max down to its floor,
# where its measured
# CPU share holds within 10% of the quota; the others stop and the quota
# comes back step by step until cpu.max is its own again. cpu.max is put
# back by SIGTERM and, after kill -9, by the journal at the next start.
. /usr/lib/ballast-vm.sh

echo +cpu >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable the cpu controller"
J=/sys/fs/cgroup/jobs
mkdir "$J" && echo +cpu >"$J/cgroup.subtree_control" || fail "cannot create $J"
mkdir "$J/batch" "$J/other"
one_policy_config /jobs backoff cpu_backoff /jobs/batch \
  '{"protect": ["/jobs/other"], "threshold": 20, "release": 5, "calm": 2, "step": 0.5, "min": 0.5, "max": 2}' 1s

cpu_max_is() { [ "$(cat "$J/batch/cpu.max")" = "$1" ]; }
usage_us() { awk '/^usage_usec/ { print $2 }' "$J/batch/cpu.stat"; }

spinners $J/batch 2 600
batch=$spun
spinners $J/other 2 600
others=$spun
agent_ready
t0=$(now)
eventually 90 "host CPU pressure takes batch's quota to its floor" cpu_max_is "50000 100000"
figure floor_reached_s "$(since "$t0")"
sleep 3 # past the step
u0=$(usage_us)
t0=$(now)
sleep 10
share=$(awk -v a="$u0" -v b="$(usage_us)" -v t="$(since "$t0")" 'BEGIN { printf "%.3f", (b - a) / 1e6 / t }')
figure batch_share_at_quota_0_5 "$share"
awk -v s="$share" 'BEGIN { exit !(s >= 0.45 && s <= 0.55) }' ||
  fail "batch ran $share CPUs under a 0.5 CPU quota (not within 10%)"

kill $others
t0=$(now)
eventually 90 "the quota comes back to no limit once the others stop" cpu_max_is "max 100000"
figure lifted_s "$(since "$t0")"

spinners $J/other 2 600
others=$spun
eventually 90 "the quota goes down again" cpu_max_is "50000 100000"
agent_stop
cpu_max_is "max 100000" || fail "cpu.max is $(cat "$J/batch/cpu.max") after SIGTERM"

agent_ready
eventually 90 "the quota goes down under the new agent" cpu_max_is "50000 100000"
kill -9 "$agent"
wait "$agent" 2>/dev/null
kill $others
agent_ready
cpu_max_is "max 100000" || fail "cpu.max is $(cat "$J/batch/cpu.max") after kill -9 and a start"
agent_stop
kill $batch
