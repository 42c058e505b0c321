#!/bin/sh
# VM scenario 2: with the memory and cpu controllers present, telemetry reports
# memory.current and cpu.stat of a cgroup with memory.max = 32M, and a kernel OOM
# kill inside it (a busybox memory hog) shows up as the agent's counter of
# memory.events oom_kill and as a warning in its log. A cgroup whose only
# process is OOM-killed, which no policy samples, is counted and logged all
# the same (memory.events is watched for its changes). SIGTERM then exits 0.
. /usr/lib/ballast-vm.sh

TOP=/sys/fs/cgroup/vmmem
CG=$TOP/hog

cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"},
 "journal": "/run/ballast/journal",
 "watch": {"include": ["/vmmem/**"]},
 "policies": [{"name": "telemetry", "type": "telemetry", "interval": "500ms",
               "select": {"cgroups": ["/vmmem/hog"]}}]}
JSON

mkdir "$TOP" || fail "cannot create $TOP"
echo "+memory +cpu +io +pids" >"$TOP/cgroup.subtree_control" || fail "cannot enable controllers in $TOP"

t0=$(now)
agent_start /run/ballast.json
ready() {
  agent_scrape && metric_is ballast_rescans_total '' '>=' 1
}
eventually 60 "ballastd answers on /metrics after its start-up scan" ready
figure agent_ready_s "$(since "$t0")"

mkdir "$CG" || fail "cannot create $CG"
echo 32M >"$CG/memory.max" || fail "cannot set $CG/memory.max"
if [ -e "$CG/memory.swap.max" ]; then
  echo 0 >"$CG/memory.swap.max" || fail "cannot set $CG/memory.swap.max"
fi

t1=$(now)
sh -c "echo \$\$ >$CG/cgroup.procs && exec sleep 600" &
pid=$!
HOG='cgroup="/vmmem/hog"'
sampled() {
  agent_scrape &&
    metric_is ballast_cgroup_memory_bytes "$HOG" '>' 0 &&
    metric_is ballast_cgroup_cpu_seconds_total "$HOG" '>=' 0
}
eventually 60 "memory and cpu of the sleep in /vmmem/hog in /metrics" sampled
figure memory_sampled_s "$(since "$t1")"

# The hog: busybox tail keeps all of a line in memory while it looks for its end,
# so 48 MiB without a newline is anonymous memory touched past memory.max.
t2=$(now)
sh -c "echo \$\$ >$CG/cgroup.procs && head -c 48m /dev/zero | tail >/dev/null"
hog_rc=$?
figure hog_s "$(since "$t2")"
oom_kills=$(awk '$1 == "oom_kill" { print $2 }' "$CG/memory.events")
[ "${oom_kills:-0}" -ge 1 ] ||
  fail "the hog (status $hog_rc) was not OOM-killed: $(tr '\n' ' ' <"$CG/memory.events")"

t3=$(now)
oom_counted() {
  agent_scrape &&
    metric_is ballast_cgroup_memory_events_total "$HOG,event=\"oom_kill\"" '>=' 1
}
eventually 60 "ballast_cgroup_memory_events_total{$HOG,event=\"oom_kill\"} >= 1" oom_counted
figure oom_counted_s "$(since "$t3")"
eventually 30 "the agent logs the oom kill" grep -qi "oom kill" "$AGENT_LOG"
grep -i "oom kill" "$AGENT_LOG"

# The last (only) process of a cgroup no policy samples, OOM-killed.
LONE=$TOP/lonely
mkdir "$LONE" || fail "cannot create $LONE"
echo 32M >"$LONE/memory.max" || fail "cannot set $LONE/memory.max"
[ -e "$LONE/memory.swap.max" ] && echo 0 >"$LONE/memory.swap.max"
t4=$(now)
sh -c "echo \$\$ >$LONE/cgroup.procs && head -c 48m /dev/zero | tail >/dev/null"
lone_counted() {
  agent_scrape &&
    metric_is ballast_cgroup_memory_events_total 'cgroup="/vmmem/lonely",event="oom_kill"' '>=' 1
}
eventually 60 "the OOM kill of /vmmem/lonely's last process is counted" lone_counted
figure lonely_oom_counted_s "$(since "$t4")"
eventually 30 "the agent logs it" grep -q "/vmmem/lonely: .* oom kill" "$AGENT_LOG"
metric_is ballast_policy_actors 'policy="telemetry"' '==' 1 ||
  fail "a policy sampled /vmmem/lonely: the test proves nothing"
eventually 30 "rmdir $LONE" rmdir "$LONE"

kill "$pid"
wait "$pid" 2>/dev/null || true
eventually 30 "rmdir $CG" rmdir "$CG"
rmdir "$TOP" || fail "cannot remove $TOP"
agent_stop
