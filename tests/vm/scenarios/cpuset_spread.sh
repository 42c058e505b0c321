#!/bin/sh
# VM scenario: cpuset_spread with the cpuset controller on 6.1, 2 vCPUs. Two
# spinners in each of /jobs/hog1 and /jobs/hog2 wait in the run queue
# together: the policy gives them disjoint cpuset.cpus (the spinners' own
# affinity follows), and merges them back once they stop. Every cpuset is
# put back by SIGTERM and, after kill -9, by the journal at the next start.
# 6.1 will not empty the cpuset.cpus of a cgroup with tasks (ENOSPC): put
# back while the hogs run, it holds the parent's CPUs instead of "".
. /usr/lib/ballast-vm.sh

echo +cpuset >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable the cpuset controller"
J=/sys/fs/cgroup/jobs
mkdir "$J" && echo +cpuset >"$J/cgroup.subtree_control" || fail "cannot create $J"
mkdir "$J/hog1" "$J/hog2"
one_policy_config /jobs spread cpuset_spread '/jobs/*' \
  '{"target_ms": 2, "release_ms": 1, "rise": 2, "calm": 3, "hold": "5s"}' 1s

cpus_of() { cat "$J/$1/cpuset.cpus"; }
spread() {
  [ -n "$(cpus_of hog1)" ] && [ -n "$(cpus_of hog2)" ] && [ "$(cpus_of hog1)" != "$(cpus_of hog2)" ]
}
merged() { [ -z "$(cpus_of hog1)" ] && [ -z "$(cpus_of hog2)" ]; }
effective() { cat "$J/$1/cpuset.cpus.effective"; }
# whole: each hog may run on every CPU of /jobs.
whole() { [ "$(effective hog1)" = "$(effective .)" ] && [ "$(effective hog2)" = "$(effective .)" ]; }
hogs_start() {
  spinners "$J/hog1" 2 600
  hogs=$spun
  spinners "$J/hog2" 2 600
  hogs="$hogs $spun"
}
hogs_stop() {
  kill $hogs
  wait $hogs 2>/dev/null || true # their status is SIGTERM's
}
# allowed PID: the CPUs the kernel lets PID run on.
allowed() { awk '$1 == "Cpus_allowed_list:" { print $2 }' "/proc/$1/status"; }

merged || fail "cpuset.cpus is set before the agent: $(cpus_of hog1)"
agent_ready
hogs_start
t0=$(now)
eventually 90 "the contending hogs get disjoint CPUs" spread
figure spread_s "$(since "$t0")"
echo "scenario: hog1 on $(cpus_of hog1), hog2 on $(cpus_of hog2)"
agent_scrape && metric_is ballast_policy_cpu_setting 'cgroup="/jobs/hog1"' '==' 1 ||
  fail "ballast_policy_cpu_setting of /jobs/hog1 is '$(metric ballast_policy_cpu_setting 'cgroup="/jobs/hog1"')'"
[ "$(effective hog1)" = "$(cpus_of hog1)" ] || fail "hog1's effective CPUs are $(effective hog1)"
for pid in $hogs; do
  [ "$(allowed "$pid")" = "$(cpus_of hog1)" ] || [ "$(allowed "$pid")" = "$(cpus_of hog2)" ] ||
    fail "spinner $pid may run on $(allowed "$pid")"
done

hogs_stop
t0=$(now)
eventually 90 "the cpusets are merged back once the hogs stop" merged
figure merged_s "$(since "$t0")"

hogs_start
eventually 90 "the hogs are spread again" spread
agent_stop
whole || fail "the hogs' CPUs are $(effective hog1) and $(effective hog2) after SIGTERM"
hogs_stop # and "" again, which the journal puts back after kill -9 below
echo >"$J/hog1/cpuset.cpus" && echo >"$J/hog2/cpuset.cpus" && merged || fail "cannot empty the cpusets"
hogs_start

agent_ready
eventually 90 "the hogs are spread under the new agent" spread
kill -9 "$agent"
wait "$agent" 2>/dev/null
hogs_stop
agent_ready
merged || fail "cpuset.cpus is $(cpus_of hog1) after kill -9 and a start"
agent_stop
