#!/bin/sh
# VM scenario for bench/vm_bench.sh memory: the memory policies' benchmarks
# inside the test VM (qemu TCG, 256 MiB of zram swap). Its JSON goes to the
# host as the figure "memory_json". Not a CTest test.
#  - reaction: senpai holds a cgroup with a 32 MiB workload at limit_min
#    (40M, no pressure); a second 24 MiB workload starts; the time from its
#    first push over memory.high (memory.events "high") to the first raise
#    of memory.high, with a PSI trigger (50 ms of stall in 1 s) and without
#    one (the 2 s interval only); 3 runs each. Also from the workload's exec,
#    which under TCG includes ~0.3 s of start-up and fill.
#  - savings: memhog --hot 32M --cold 64M alone, then with senpai: memory
#    saved as % of the peak, and the throughput change (for a fixed amount
#    of work, the runtime change is its inverse).
. /usr/lib/ballast-vm.sh

TOP=/sys/fs/cgroup/bench
CG=$TOP/r
swap_on 256M
echo "+memory" >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable memory in the root"
mkdir "$TOP" "$CG" || fail "cannot create $CG"
echo "+memory" >"$TOP/cgroup.subtree_control" || fail "cannot enable memory in $TOP"

at_floor() { [ "$(cat "$CG/memory.high")" = $((40 * 1048576)) ]; }

# reaction_runs PARAMS FILE: writes the 3 reaction times in ms to FILE, space
# separated (not on stdout: a command substitution's subshell could not fail
# the scenario).
reaction_runs() {
  local times="" starts="" i before t0 tp t1 v high0
  one_policy_config /bench senpai senpai /bench/r "$1" 2s
  agent_ready
  for i in 1 2 3; do
    eventually 120 "senpai holds $CG at limit_min" at_floor
    sleep 3
    before=$(cat "$CG/memory.high")
    high0=$(high_events)
    hog_start "$CG" /tmp/hog2.log --hot 24M
    t0=$(now) tp=""
    while :; do
      [ -z "$tp" ] && [ "$(high_events)" -gt "$high0" ] && tp=$(now)
      v=$(cat "$CG/memory.high")
      [ "$v" = max ] || [ "$v" -gt "$before" ] && break
      awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a > 30) }' && fail "no raise within 30 s"
    done
    t1=$(now)
    starts="$starts $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')"
    times="$times $(awk -v a="${tp:-$t0}" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')"
    kill "$hog"
    wait "$hog" 2>/dev/null
  done
  agent_stop
  echo $times >"$2"
  echo $starts >"$2.from_start"
}

# high_events: how often the cgroup went over memory.high (memory.events).
high_events() { awk '$1 == "high" { print $2 }' "$CG/memory.events"; }

hog_start "$CG" /tmp/hog1.log --hot 32M --cold 8M
steady=$hog
base='"limit_min": "40M", "max_probe": 0.2'
reaction_runs "{$base, \"trigger_stall\": \"50ms\", \"trigger_window\": \"1s\"}" /tmp/with
reaction_runs "{$base}" /tmp/without
with=$(cat /tmp/with) without=$(cat /tmp/without) with_start=$(cat /tmp/with.from_start)
kill "$steady"
wait "$steady" 2>/dev/null
eventually 30 "the reaction workload is gone" sh -c "[ -z \"\$(cat $CG/cgroup.procs)\" ]"

# savings: 10 s of the workload alone (its peak, and the median throughput of
# seconds 4..10), then senpai joins (1 s interval, max_probe 0.05, so it gets
# there within the run); after 40 s more: memory.current, the median
# throughput of the last 10 s and the share of those 10 s the workload was
# stalled on memory (the throughput the policy cost; pages/s under qemu TCG
# drifts by tens of % with no policy at all).
hog_start "$CG" /tmp/savings.log --hot 32M --cold 64M
eventually 60 "memhog reports 10 seconds" sh -c "[ \$(grep -c ' t=' /tmp/savings.log) -ge 10 ]"
alone_rate=$(hog_rate /tmp/savings.log 7)
peak=$(cat "$CG/memory.current")
one_policy_config /bench senpai senpai /bench/r '{"max_probe": 0.05, "limit_min": "16M", "trigger_stall": "50ms", "trigger_window": "1s"}' 1s
agent_ready
n=$(hog_lines /tmp/savings.log)
eventually 120 "memhog reports 30 more seconds" sh -c "[ \$(grep -c ' t=' /tmp/savings.log) -ge $((n + 30)) ]"
t0=$(now)
stall0=$(stall_us "$CG")
eventually 60 "memhog reports 40 more seconds" sh -c "[ \$(grep -c ' t=' /tmp/savings.log) -ge $((n + 40)) ]"
stalled=$(stall_share "$CG" "$stall0" "$t0")
final=$(cat "$CG/memory.current")
senpai_rate=$(hog_rate /tmp/savings.log 10)
agent_stop
kill "$hog"
wait "$hog" 2>/dev/null

json=$(awk -v w="$with" -v ws="$with_start" -v wo="$without" -v p="$peak" -v f="$final" -v a="$alone_rate" -v s="$senpai_rate" -v st="$stalled" "$STATS_AWK"'
  BEGIN {
    printf "{\"reaction_trigger_ms\":%s,\"reaction_trigger_ms_median\":%s,", arr(w), med(w)
    printf "\"reaction_trigger_from_workload_start_ms\":%s,", arr(ws)
    printf "\"reaction_interval_only_ms\":%s,\"reaction_interval_only_ms_median\":%s,\"interval_ms\":2000,", arr(wo), med(wo)
    printf "\"senpai_peak_bytes\":%d,\"senpai_final_bytes\":%d,\"senpai_saved_pct_of_peak\":%.1f,", p, f, (p - f) * 100 / p
    printf "\"alone_pages_per_s\":%d,\"senpai_pages_per_s\":%d,\"throughput_change_pct\":%.1f,", a, s, (s - a) * 100 / a
    printf "\"senpai_memory_stall_share_last_10s\":%s}", st
  }')
figure memory_json "$json"
rmdir "$CG" "$TOP"
