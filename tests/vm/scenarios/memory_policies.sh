#!/bin/sh
# VM scenario: the memory.high policies and memory_floor against a real
# workload (ballast-memhog: a 32 MiB hot set it touches all the time and 64 MiB
# of cold memory it never touches again) with 256 MiB of zram swap.
#  - senpai, then pi_pressure (each in an agent of its own): memory.high comes
#    to within 20% above the hot set while the workload keeps at least 90% of
#    its throughput; SIGTERM puts memory.high back to max.
#    Throughput lost to a memory policy is time the workload spends stalled on
#    memory, which the kernel measures (its cgroup's memory.pressure "some"
#    total): at most 10% of the measured wall time. Pages touched per second
#    are reported next to the baseline but not asserted: under qemu TCG on a
#    shared host two identical hogs side by side differ by 20% in their
#    10-second medians, so that ratio says more about the emulator than the
#    policy.
#  - wss_probe: the estimate is within 20% of the hot set and memory.high is
#    released afterwards.
#  - memory_floor: memory.min is the floor split over the members, and is
#    split again when a member leaves.
. /usr/lib/ballast-vm.sh

MiB=1048576
HOT_MIB=32
TOP=/sys/fs/cgroup/pol

swap_on 256M
echo "+memory" >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable memory in the root"
mkdir "$TOP" || fail "cannot create $TOP"
echo "+memory" >"$TOP/cgroup.subtree_control" || fail "cannot enable memory in $TOP"

# limit_phase NAME TYPE PARAMS: memory.high steering by one policy.
limit_phase() {
  local name=$1 type=$2 params=$3 cg=$TOP/$1 log=/tmp/$1.log base t0 rate peak high
  mkdir "$cg" || fail "cannot create $cg"
  hog_start "$cg" "$log" --hot ${HOT_MIB}M --cold 64M
  # The baseline: the median of seconds 4..10, past the start-up.
  eventually 60 "memhog in $cg reports 10 seconds" sh -c "[ \$(grep -c ' t=' $log) -ge 10 ]"
  base=$(hog_rate "$log" 7)
  peak=$(cat "$cg/memory.current")
  figure "${name}_baseline_pages_per_s" "$base"
  figure "${name}_peak_mib" "$(mib "$peak")"

  one_policy_config /pol "$name" "$type" "/pol/$name" "$params" 1s
  t0=$(now)
  agent_ready
  # Settled: memory.high within 20% above the hot set, and the workload back
  # at full speed.
  lo=$((HOT_MIB * MiB)) hi=$((HOT_MIB * MiB * 12 / 10))
  eventually 180 "$name brings memory.high of $cg within [$lo, $hi]" within "$lo" "$hi" "$cg/memory.high"
  figure "${name}_settle_s" "$(since "$t0")"
  # Over the next 10 s of the workload: its throughput, and memory.high every
  # 0.5 s (senpai backs off in steps and probes down again: the median is the
  # level it holds).
  n=$(hog_lines "$log")
  : >/tmp/highs
  t0=$(now)
  stall0=$(stall_us "$cg")
  while [ "$(hog_lines "$log")" -lt $((n + 10)) ]; do
    agent_exited && fail "ballastd exited early"
    cat "$cg/memory.high" >>/tmp/highs
    sleep 0.5
  done
  stalled=$(stall_share "$cg" "$stall0" "$t0")
  rate=$(hog_rate "$log" 10)
  sort -n /tmp/highs >/tmp/highs.sorted
  high=$(awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }' /tmp/highs.sorted)
  figure "${name}_memory_high_mib_min" "$(mib "$(head -n 1 /tmp/highs.sorted)")"
  figure "${name}_memory_high_mib_median" "$(mib "$high")"
  figure "${name}_memory_high_mib_max" "$(mib "$(tail -n 1 /tmp/highs.sorted)")"
  figure "${name}_memory_current_mib" "$(mib "$(cat "$cg/memory.current")")"
  figure "${name}_saved_pct_of_peak" "$(awk -v p="$peak" -v c="$(cat "$cg/memory.current")" 'BEGIN { printf "%.0f", (p - c) * 100 / p }')"
  figure "${name}_pages_per_s" "$rate"
  figure "${name}_pages_per_s_ratio_to_baseline" "$(awk -v a="$rate" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
  figure "${name}_memory_stall_share" "$stalled"
  echo "$high" >/tmp/high.median
  within "$lo" "$hi" /tmp/high.median ||
    fail "$name: the median memory.high $(mib "$high") MiB left [$lo, $hi] while measuring"
  awk -v s="$stalled" 'BEGIN { exit !(s <= 0.10) }' ||
    fail "$name: the workload was stalled on memory $stalled of the time (more than 10%)"
  agent_scrape
  metric_is ballast_policy_output_bytes "policy=\"$name\"" '>' 0 || fail "$name: no ballast_policy_output_bytes"
  metric_is ballast_policy_decisions_total "policy=\"$name\",action=\"lower\"" '>' 0 ||
    fail "$name: no lower decisions counted"
  grep -q "wrote memory.high=.* in /pol/$name ($name:" "$AGENT_LOG" || fail "$name: writes are not logged with their reason"
  agent_stop
  [ "$(cat "$cg/memory.high")" = max ] || fail "$name: memory.high is $(cat "$cg/memory.high") after SIGTERM, not max"
  kill "$hog"
  wait "$hog" 2>/dev/null
  eventually 30 "rmdir $cg" rmdir "$cg"
}

limit_phase senpai senpai '{"stall_target": "10ms", "max_probe": 0.05, "max_backoff": 0.1, "limit_min": "16M", "trigger_stall": "50ms", "trigger_window": "1s"}'
limit_phase pi pi_pressure '{"setpoint": 0.5, "max_step_down": 0.05, "limit_min": "16M"}'

# wss_probe: per process; the estimate, then memory.high released.
cg=$TOP/wss
mkdir "$cg" || fail "cannot create $cg"
hog_start "$cg" /tmp/wss.log --hot ${HOT_MIB}M --cold 64M
eventually 60 "memhog in $cg is running" sh -c "[ \$(grep -c ' t=' /tmp/wss.log) -ge 2 ]"
cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"}, "journal": "/run/ballast/journal",
 "watch": {"include": ["/pol/**"]},
 "policies": [{"name": "wss", "type": "wss_probe", "interval": "1s",
               "select": {"cgroups": ["/pol/wss"], "comm": "ballast-memhog"},
               "params": {"step": 0.05, "stall_threshold": "50ms", "floor": "8M"}}]}
JSON
t0=$(now)
agent_ready
estimated() { agent_scrape && metric_is ballast_wss_estimate_bytes 'policy="wss"' '>' 0; }
eventually 240 "wss_probe exports an estimate" estimated
figure wss_probe_s "$(since "$t0")"
est=$(metric ballast_wss_estimate_bytes 'policy="wss"')
figure wss_estimate_mib "$(mib "${est%.*}")"
awk -v e="$est" -v w="$((HOT_MIB * MiB))" 'BEGIN { exit !(e >= 0.8 * w && e <= 1.2 * w) }' ||
  fail "wss_probe estimate $(mib "${est%.*}") MiB is not within 20% of the ${HOT_MIB} MiB hot set"
eventually 30 "memory.high of $cg is released (max)" sh -c "[ \$(cat $cg/memory.high) = max ]"
agent_stop
kill "$hog"
wait "$hog" 2>/dev/null
eventually 30 "rmdir $cg" rmdir "$cg"

# memory_floor: 96M over three members, then over two.
for m in a b c; do mkdir "$TOP/floor-$m" || fail "cannot create $TOP/floor-$m"; done
cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"}, "journal": "/run/ballast/journal",
 "watch": {"include": ["/pol/**"]},
 "policies": [{"name": "floor", "type": "memory_floor",
               "select": {"cgroups": ["/pol/floor-*"]}, "params": {"floor": "96M"}}]}
JSON
agent_ready
for m in a b c; do
  eventually 30 "memory.min of floor-$m is 32M" sh -c "[ \$(cat $TOP/floor-$m/memory.min) = $((32 * MiB)) ]"
done
t0=$(now)
rmdir "$TOP/floor-c" || fail "cannot remove floor-c"
for m in a b; do
  eventually 30 "memory.min of floor-$m is 48M after floor-c left" sh -c "[ \$(cat $TOP/floor-$m/memory.min) = $((48 * MiB)) ]"
done
figure floor_resplit_s "$(since "$t0")"
agent_stop
for m in a b; do
  [ "$(cat "$TOP/floor-$m/memory.min")" = 0 ] || fail "memory.min of floor-$m not restored to 0 after SIGTERM"
  rmdir "$TOP/floor-$m"
done
rmdir "$TOP"
