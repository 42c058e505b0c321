#!/bin/sh
# VM scenario for bench/vm_bench.sh jobs: the reaction time of the jobs'
# response (issue target: <= 500 ms with PSI triggers). A priority-90 job
# runs a 64 MiB workload; five times, a priority-10 job starts a 96 MiB
# workload under memory.high 24M (host memory pressure from its throttling)
# and the response's freeze rule (memory.some above 10 %) freezes it. Times
# from its first memory stall (its memory.pressure "some" total above 0) and
# from its start to its cgroup frozen (cgroup.events), polled every ~20 ms.
# Its JSON goes to the host as the figure "jobs_json". Not a CTest test.
. /usr/lib/ballast-vm.sh

cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"}, "journal": "/run/ballast/journal",
 "watch": {"include": ["/ballast-jobs/**"]},
 "jobs": {"dir": "/run/jobs", "response": {"hold": "10m", "kill": false, "demote": false,
   "io_freeze": false,
   "freeze": {"pressure": "memory.some", "above": 10, "below": 2, "cooldown": "1s"}}}}
JSON
swap_on 256M
agent_ready
ctl run --id high --priority 90 -- ballast-memhog --hot 64M --seconds 600 || fail "run high"
sleep 3
stall_total() { sed -n 's/^some .*total=\([0-9]*\)$/\1/p' "$JOBS/low$1/memory.pressure" 2>/dev/null; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
from_stall="" from_start=""
for i in 1 2 3 4 5; do
  t0=$(now)
  ctl run --id "low$i" --priority 10 --memory-high 24M -- ballast-memhog --hot 96M --seconds 600 ||
    fail "run low$i"
  ts=""
  until grep -q '^frozen 1' "$JOBS/low$i/cgroup.events"; do
    [ -z "$ts" ] && [ "$(stall_total "$i")" -gt 0 ] 2>/dev/null && ts=$(now)
    awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a > 60) }' && fail "low$i not frozen in 60 s"
    sleep 0.02
  done
  t1=$(now)
  from_stall="$from_stall $(ms "${ts:-$t0}" "$t1")"
  from_start="$from_start $(ms "$t0" "$t1")"
  ctl kill "low$i" --signal 9 >/dev/null
  ctl wait "low$i" >/dev/null
  ctl remove "low$i" >/dev/null || fail "remove low$i"
  sleep 3
done
grep -q '^frozen 1' "$JOBS/high/cgroup.events" && fail "the priority-90 job is frozen"
agent_stop

json=$(awk -v s="$from_stall" -v t="$from_start" "$STATS_AWK"'
  BEGIN {
    printf "{\"freeze_from_first_stall_ms\":%s,\"freeze_from_first_stall_ms_median\":%s,", arr(s), med(s)
    printf "\"freeze_from_start_ms\":%s,\"freeze_from_start_ms_median\":%s,", arr(t), med(t)
    printf "\"target_ms\":500,\"trigger_window_ms\":500,\"interval_ms\":1000}"
  }')
figure jobs_json "$json"
