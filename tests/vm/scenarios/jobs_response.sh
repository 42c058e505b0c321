#!/bin/sh
# VM scenario: the jobs' host-wide response to pressure (jobs.response) on
# the 6.1 kernel with the full cgroup v2.
#  - memory: two jobs, priorities 90 and 10; the low one's memory.high
#    throttling keeps host memory pressure up: the response freezes it
#    (reaction time from its start a figure), thaws it once the pressure
#    has fallen, never touches the high one;
#  - kill: with the kill rule on (SIGHUP), a low job is killed (wait 137)
#    after the pre-kill hook ran with its ID and the reason;
#  - cpu: three spinners on two CPUs: the low job's cpu.weight goes to 10,
#    the high one's stays; the end of the pressure puts it back, so does a
#    restart after kill -9 with the rule off (the journal), and SIGTERM.
. /usr/lib/ballast-vm.sh

# config FREEZE KILL DEMOTE: /run/ballast.json with those rules (JSON or false).
config() {
  cat >/run/ballast.json <<JSON
{"metrics": {"listen": "127.0.0.1:9464"}, "journal": "/run/ballast/journal",
 "watch": {"include": ["/ballast-jobs/**"]},
 "jobs": {"dir": "/run/jobs", "response": {"hold": "3s", "io_freeze": false,
   "kill_hook": "echo \"\$BALLAST_JOB_ID \$BALLAST_REASON\" >/run/hook.out; sleep 1",
   "freeze": $1, "kill": $2, "demote": $3}}}
JSON
}
reload() {
  config "$@"
  kill -HUP "$agent"
}
MEMORY='{"pressure": "memory.some", "above": 10, "below": 2, "cooldown": "2s"}'
CPU='{"pressure": "cpu.some", "above": 30, "below": 10, "cooldown": "2s"}'
# frozen_by ID WHO: inspect says WHO froze the job ("" when nobody did).
frozen_by() { ctl -o json inspect "$1" | grep -q "\"frozen_by\": \"$2\""; }
events_frozen() { grep -q "^frozen $2" "$JOBS/$1/cgroup.events"; }
weight_is() { [ "$(cat "$JOBS/$1/cpu.weight")" = "$2" ]; }
killed() { ctl -o json inspect "$1" | grep -q '"state": "killed"'; }

swap_on 256M
config "$MEMORY" false false
agent_ready

# 1. Memory: the low job is frozen, never the high one, and thawed after.
ctl run --id high --priority 90 -- ballast-memhog --hot 64M --seconds 600 || fail "run high refused"
( while :; do grep -q '^frozen 1' "$JOBS/high/cgroup.events" && touch /tmp/high_frozen; sleep 0.1; done ) &
watcher=$!
t0=$(now)
ctl run --id low --priority 10 --memory-high 24M -- ballast-memhog --hot 96M --seconds 600 ||
  fail "run low refused"
eventually 90 "the response froze low" frozen_by low freeze
figure freeze_after_start_s "$(since "$t0")"
eventually 30 "low's cgroup is frozen" events_frozen low 1
# Thawed after the hold (and frozen again at once, as the hog goes on).
t1=$(now)
eventually 60 "the response thawed low once the pressure fell" \
  grep -q 'job low thawed by the response (freeze): memory.some .* has stayed below' "$AGENT_LOG"
figure thaw_after_freeze_s "$(since "$t1")"
grep -q 'job low frozen by the response (freeze): memory.some' "$AGENT_LOG" ||
  fail "no log line of the response's freeze with its reason"

# 2. Kill, after the pre-kill hook.
reload false "$MEMORY" false
eventually 60 "low killed by the response" killed low
ctl wait low
rc=$?
[ "$rc" -eq 137 ] || fail "wait low exited $rc, not 137"
grep -q '^low memory.some' /run/hook.out || fail "the pre-kill hook did not run: $(cat /run/hook.out)"
ctl -o json inspect high | grep -q '"state": "running"' || fail "high is not running"
kill "$watcher"
[ -e /tmp/high_frozen ] && fail "the high-priority job was frozen"
ctl kill high --signal 9
ctl wait high
ctl remove low >/dev/null || fail "remove low"
ctl remove high >/dev/null || fail "remove high"

# 3. CPU: demoted; put back by the end of the pressure, by the journal
# after kill -9 (restarted with the rule off), by SIGTERM. Three spinners
# on two CPUs keep cpu.some up; every kill is retried (the agent competes
# with them for the CPUs of a TCG guest).
reload false false "$CPU"
two='ballast-schedload spin 600 & ballast-schedload spin 600; wait'
ctl run --id cpulow --priority 10 --cpu-weight 50 -- ballast-schedload spin 600 || fail "run cpulow"
ctl run --id cpuhigh --priority 90 -- /bin/sh -c "$two" || fail "run cpuhigh"
eventually 60 "cpulow demoted to cpu.weight 10" weight_is cpulow 10
weight_is cpuhigh 100 || fail "cpuhigh's cpu.weight is $(cat $JOBS/cpuhigh/cpu.weight)"
eventually 60 "kill cpuhigh" ctl kill cpuhigh --signal 9
eventually 60 "cpuhigh killed" killed cpuhigh
eventually 60 "cpulow's cpu.weight back once the pressure fell" weight_is cpulow 50
ctl run --id cpuhigh2 --priority 90 -- /bin/sh -c "$two" || fail "run cpuhigh2"
eventually 60 "cpulow demoted again" weight_is cpulow 10
kill -9 "$agent"
wait "$agent" 2>/dev/null
config false false false
agent_ready
eventually 30 "the restart put cpulow's cpu.weight back" weight_is cpulow 50
reload false false "$CPU"
eventually 60 "cpulow demoted once more" weight_is cpulow 10
agent_stop
weight_is cpulow 50 || fail "SIGTERM left cpulow's cpu.weight at $(cat $JOBS/cpulow/cpu.weight)"
for id in cpulow cpuhigh2; do echo 1 >"$JOBS/$id/cgroup.kill"; done
exit 0
