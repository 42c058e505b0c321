#!/bin/sh
# VM scenario: cpu_weight with the cpu controller on 6.1, 2 vCPUs. Two
# spinners in each of /jobs/hog1 and /jobs/hog2 and a pipe ping-pong in
# /jobs/pp, all three in the policy's group, the ping-pong protected (under
# TCG its syscalls make it take as much CPU as a hog cgroup, so the group's
# mean cannot tell it from them): its run-queue wait takes both hogs'
# cpu.weight to the floor, and they are given back once it stops. Every weight is put back by SIGTERM
# and, after kill -9, by the journal at the next start.
# The ping-pong's round trip with and without the policy is reported, not
# asserted: on this kernel under TCG its p99 is bound by the 4 ms tick, and
# with low hog weights it sometimes falls into a mode where every wakeup
# waits for a tick (see bench/vm/cpu.sh for the medians).
. /usr/lib/ballast-vm.sh

echo +cpu >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable the cpu controller"
J=/sys/fs/cgroup/jobs
mkdir "$J" && echo +cpu >"$J/cgroup.subtree_control" || fail "cannot create $J"
mkdir "$J/hog1" "$J/hog2" "$J/pp"
one_policy_config /jobs weights cpu_weight '/jobs/*' \
  '{"protect": ["/jobs/pp"], "target_ms": 2, "release_ms": 1, "calm": 3, "hold": "4s", "min": 10}' 1s

weight_is() { [ "$(cat "$J/$1/cpu.weight")" = "$2" ]; }
hogs_at() { weight_is hog1 "$1" && weight_is hog2 "$1"; }
pingpong_start() { in_cgroup "$J/pp" ballast-schedload pingpong 600 >/dev/null & pp=$!; }

spinners "$J/hog1" 2 900
hogs=$spun
spinners "$J/hog2" 2 900
hogs="$hogs $spun"
sleep 1
without=$(pingpong "$J/pp" 8)
figure pingpong_p99_us_without_policy "$(field p99_us "$without")"

agent_ready
pingpong_start
t0=$(now)
eventually 90 "the ping-pong's wait takes the hogs' weights to the floor" hogs_at 10
figure floor_reached_s "$(since "$t0")"
weight_is pp 100 || fail "the protected ping-pong's cpu.weight is $(cat "$J/pp/cpu.weight")"
agent_scrape && metric_is ballast_policy_cpu_setting 'cgroup="/jobs/hog1"' '==' 10 ||
  fail "ballast_policy_cpu_setting of /jobs/hog1 is '$(metric ballast_policy_cpu_setting 'cgroup="/jobs/hog1"')'"
kill $pp
with=$(pingpong "$J/pp" 8) # the calm count (3 s) outlasts the moment between the two
figure pingpong_p99_us_with_policy "$(field p99_us "$with")"
agent_scrape && figure agent_pp_runq_p99_s \
  "$(metric ballast_cgroup_runq_delay_seconds 'cgroup="/jobs/pp",quantile="0.99"')"
hogs_at 10 || fail "the hogs' weights moved while the ping-pong ran: $(cat "$J/hog1/cpu.weight")"

t0=$(now)
eventually 90 "the weights are given back once the ping-pong stops" hogs_at 100
figure given_back_s "$(since "$t0")"

pingpong_start
eventually 90 "the weights go down again" hogs_at 10
agent_stop
hogs_at 100 || fail "cpu.weight is $(cat "$J/hog1/cpu.weight") after SIGTERM"

agent_ready
eventually 90 "the weights go down under the new agent" hogs_at 10
kill -9 "$agent"
wait "$agent" 2>/dev/null
kill $pp
agent_ready
hogs_at 100 || fail "cpu.weight is $(cat "$J/hog1/cpu.weight") after kill -9 and a start"
agent_stop
kill $hogs
