#!/bin/sh
# VM scenario: the rules policy on 6.1 with the cpu controller, 2 vCPUs:
# "host cpu some avg10 > 20 for 2s -> cpu.weight 10" on /batch/*. Four
# spinners in /batch/hog make the host's CPU pressure rise: the rule fires
# and sets the hog's cpu.weight; once they stop and the pressure's 10 s
# average falls under 20, it ends and the weight is back. Put back by
# SIGTERM too.
. /usr/lib/ballast-vm.sh

echo +cpu >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable the cpu controller"
B=/sys/fs/cgroup/batch
mkdir "$B" && echo +cpu >"$B/cgroup.subtree_control" && mkdir "$B/hog" || fail "cannot create $B/hog"
one_policy_config /batch busy rules '/batch/*' '{"rules": [{"name": "host-busy", "for": "2s",
  "all": [{"signal": "host.cpu.some.avg10", "op": ">", "value": 20}],
  "set": {"cpu.weight": 10}}]}' 1s

weight() { cat "$B/hog/cpu.weight"; }
weight_is() { [ "$(weight)" = "$1" ]; }
host_cpu_some() { awk '/^some/ { sub("avg10=", "", $2); print $2 }' /proc/pressure/cpu; }
hogs_start() {
  spinners "$B/hog" 4 600
  hogs=$spun
}
hogs_stop() {
  kill $hogs
  wait $hogs 2>/dev/null || true # their status is SIGTERM's
}

agent_ready
[ "$(weight)" = 100 ] || fail "cpu.weight is $(weight) before the rule fired"
hogs_start
t0=$(now)
eventually 90 "the rule fires once the host's CPU pressure is over 20 for 2 s" weight_is 10
figure fired_s "$(since "$t0")"
echo "scenario: host cpu some avg10 $(host_cpu_some) when it fired"
hogs_stop
t0=$(now)
eventually 120 "the rule ends and the weight is back once the pressure falls" weight_is 100
figure ended_s "$(since "$t0")"
echo "scenario: host cpu some avg10 $(host_cpu_some) when it ended"

hogs_start
eventually 90 "the rule fires again" weight_is 10
agent_stop
[ "$(weight)" = 100 ] || fail "cpu.weight is $(weight) after SIGTERM"
hogs_stop
