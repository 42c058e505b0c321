#!/bin/sh
# VM scenario: jobs with the full cgroup v2 (ballastctl run on the 6.1 kernel).
#  - limits: a job's memory.max/high, cpu.weight, pids.max are in its cgroup
#    before it runs, the controllers enabled on the way down;
#  - an OOM-killed job: wait exits 137, inspect counts the OOM kill;
#  - admission: a low-priority job is refused while another job's memory.high
#    throttling keeps host memory pressure up, with the value that refused it;
#    a high-priority one is admitted;
#  - a frozen job and a kill -9 of the agent: the job lives on, the restarted
#    agent takes it back and thaws it (the journal), wait and logs work; after
#    SIGTERM nothing is left frozen.
. /usr/lib/ballast-vm.sh

cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"}, "journal": "/run/ballast/journal",
 "watch": {"include": ["/ballast-jobs/**"]},
 "jobs": {"dir": "/run/jobs", "admission": [{"max_priority": 49, "memory.some": 5}],
          "response": {"freeze": false, "kill": false, "demote": false, "io_freeze": false}}}
JSON
swap_on 256M
agent_ready

# 1. Limits, written before the job runs.
ctl run --id lim --memory-max 64M --memory-high 48M --cpu-weight 50 --pids-max 100 \
  -- /bin/sh -c 'cat /proc/self/cgroup; sleep 1' || fail "run lim refused"
for k in "memory.max 67108864" "memory.high 50331648" "cpu.weight 50" "pids.max 100"; do
  v=$(cat "$JOBS/lim/${k% *}")
  [ "$v" = "${k#* }" ] || fail "lim: ${k% *} is $v, not ${k#* }"
done
grep -qw memory "$JOBS/cgroup.subtree_control" || fail "memory is not enabled under the job root"
ctl wait lim || fail "lim did not exit 0"
ctl logs lim | grep -q '^0::/ballast-jobs/lim$' || fail "lim did not run in its cgroup: $(ctl logs lim)"

# 2. An OOM kill: a 32M cap on a 96M workload.
ctl run --id oom --memory-max 32M --memory-swap-max 0 -- ballast-memhog --hot 96M --seconds 60 ||
  fail "run oom refused"
ctl wait oom
rc=$?
[ "$rc" -eq 137 ] || fail "wait oom exited $rc, not 137 (SIGKILL by the OOM killer)"
ctl -o json inspect oom >/tmp/oom.json
grep -q '"oom_kills": [1-9]' /tmp/oom.json || fail "inspect shows no OOM kill: $(cat /tmp/oom.json)"
figure oom_wait_rc "$rc"

# 3. Admission: memory.high throttling of a job keeps host memory pressure up.
ctl run --id hog --priority 90 --memory-high 24M -- ballast-memhog --hot 96M --seconds 600 ||
  fail "run hog refused"
pressured() { awk '/^some/ { split($2, a, "="); exit !(a[2] > 8) }' /proc/pressure/memory; }
eventually 120 "host memory some avg10 above 8 % under the hog" pressured
figure memory_some_avg10 "$(awk '/^some/ { split($2, a, "="); print a[2] }' /proc/pressure/memory)"
ctl run --id low --priority 10 -- /bin/true >/tmp/low.out 2>&1 && fail "a low-priority job was admitted"
grep -q 'refused: memory.some avg10 .* is above 5.00 % (jobs of priority <= 49)' /tmp/low.out ||
  fail "the refusal does not say why: $(cat /tmp/low.out)"
[ -e "$JOBS/low" ] && fail "a refused job's cgroup exists"
ctl run --id high --priority 80 -- /bin/true || fail "a high-priority job was refused"
eventually 60 "ballastctl kill hog (retried: the agent competes with a zram-swapping hog)" ctl kill hog --signal 9
ctl wait hog

# 4. A frozen job outlives a kill -9 of the agent; the restart thaws it.
ctl run --id long -- /bin/sh -c 'echo started; while :; do sleep 0.2; done' || fail "run long refused"
ctl freeze long || fail "freeze long refused"
eventually 30 "long is frozen" grep -q '^frozen 1' "$JOBS/long/cgroup.events"
pid=$(cat /run/jobs/long/main.pid)
kill -9 "$agent"
wait "$agent" 2>/dev/null
kill -0 "$pid" || fail "the job died with the agent"
agent_ready
eventually 60 "the restarted agent thawed long" grep -q '^frozen 0' "$JOBS/long/cgroup.events"
ctl -o json inspect long | grep -q '"state": "running"' || fail "long is not running after the restart"
ctl freeze long || fail "freeze long refused after the restart"
eventually 30 "long is frozen again" grep -q '^frozen 1' "$JOBS/long/cgroup.events"
agent_stop
grep -q '^frozen 0' "$JOBS/long/cgroup.events" || fail "SIGTERM left long frozen"
kill -0 "$pid" || fail "the job died with the agent's SIGTERM"
agent_ready
ctl kill long
ctl wait long
rc=$?
[ "$rc" -eq 143 ] || fail "wait long exited $rc, not 143"
[ "$(ctl logs long)" = started ] || fail "logs long: $(ctl logs long)"
for id in lim oom hog high long; do ctl remove "$id" >/dev/null || fail "remove $id"; done
[ -z "$(ls /run/jobs)" ] || fail "job directories left: $(ls /run/jobs)"
agent_stop
exit 0
