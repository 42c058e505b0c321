#!/bin/sh
# VM scenario for bench/vm_bench.sh memory: the memory policies' benchmarks
# inside the test VM (qemu TCG, 256 MiB of zram swap). Its JSON goes to the
# host as the figure "memory_json". Not a CTest test.
#  - reaction: senpai holds a cgroup with a 32 MiB workload at limit_min
#    (40M, no pressure); a second 24 MiB workload starts; the time from its
#    start to the first raise of memory.high, with a PSI trigger (50 ms of
#    stall in 1 s) and without one (the 2 s interval only). 3 runs each.
#  - savings: memhog --hot 32M --cold 64M for 30 s alone, then under senpai:
#    memory at the end as % saved of the peak, and the throughput change.
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
  local times="" i before t0 v
  one_policy_config /bench senpai senpai /bench/r "$1" 2s
  agent_ready
  for i in 1 2 3; do
    eventually 120 "senpai holds $CG at limit_min" at_floor
    sleep 3
    before=$(cat "$CG/memory.high")
    hog_start "$CG" /tmp/hog2.log --hot 24M
    t0=$(now)
    while :; do
      v=$(cat "$CG/memory.high")
      [ "$v" = max ] || [ "$v" -gt "$before" ] && break
      awk -v a="$t0" -v b="$(now)" 'BEGIN { exit !(b - a > 30) }' && fail "no raise within 30 s"
    done
    times="$times $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%d", (b - a) * 1000 }')"
    kill "$hog"
    wait "$hog" 2>/dev/null
  done
  agent_stop
  echo $times >"$2"
}

hog_start "$CG" /tmp/hog1.log --hot 32M --cold 8M
base='"limit_min": "40M", "max_probe": 0.2'
reaction_runs "{$base, \"trigger_stall\": \"50ms\", \"trigger_window\": \"1s\"}" /tmp/with
reaction_runs "{$base}" /tmp/without
with=$(cat /tmp/with) without=$(cat /tmp/without)
kill "$hog"
wait "$hog" 2>/dev/null

# savings: alone, then under senpai (6 s interval, 10 ms target: Meta's defaults
# but max_probe 0.05 so it gets there within the run).
hog_run() {  # hog_run LOG: 30 s of memhog; peak and final memory.current in $peak $final
  hog_start "$CG" "$1" --hot 32M --cold 64M --seconds 30
  peak=0
  while kill -0 "$hog" 2>/dev/null; do
    v=$(cat "$CG/memory.current")
    [ "$v" -gt "$peak" ] && peak=$v
    final=$v
    sleep 1
  done
  wait "$hog"
}
hog_run /tmp/alone.log
alone_rate=$(grep -o 'done .*touched_pages_per_s=[0-9]*' /tmp/alone.log | sed 's/.*=//')
one_policy_config /bench senpai senpai /bench/r '{"max_probe": 0.05, "limit_min": "16M", "trigger_stall": "50ms", "trigger_window": "1s"}' 1s
agent_ready
hog_run /tmp/senpai.log
agent_stop
senpai_rate=$(grep -o 'done .*touched_pages_per_s=[0-9]*' /tmp/senpai.log | sed 's/.*=//')

json=$(awk -v w="$with" -v wo="$without" -v p="$peak" -v f="$final" -v a="$alone_rate" -v s="$senpai_rate" '
  function med(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((n + 1) / 2)]
  }
  function arr(list,   n, v, i, out) {
    n = split(list, v, " "); out = ""
    for (i = 1; i <= n; i++) out = out (i > 1 ? "," : "") v[i]
    return "[" out "]"
  }
  BEGIN {
    printf "{\"reaction_trigger_ms\":%s,\"reaction_trigger_ms_median\":%s,", arr(w), med(w)
    printf "\"reaction_interval_only_ms\":%s,\"reaction_interval_only_ms_median\":%s,\"interval_ms\":2000,", arr(wo), med(wo)
    printf "\"senpai_peak_bytes\":%d,\"senpai_final_bytes\":%d,\"senpai_saved_pct_of_peak\":%.1f,", p, f, (p - f) * 100 / p
    printf "\"alone_pages_per_s\":%d,\"senpai_pages_per_s\":%d,\"throughput_change_pct\":%.1f}", a, s, (s - a) * 100 / a
  }')
figure memory_json "$json"
rmdir "$CG" "$TOP"
