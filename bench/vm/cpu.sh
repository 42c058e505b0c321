#!/bin/sh
# VM scenario for bench/vm_bench.sh cpu: issue 14's cpu_weight benchmark
# inside the test VM (qemu TCG, 6.1, 2 vCPUs, the cpu controller). Its JSON
# goes to the host as the figure "cpu_json". Not a CTest test.
# A pipe ping-pong in /bench/pp and two spinners in each of /bench/hog1 and
# /bench/hog2, in RUNS rounds (default 3) of five modes, each a ping-pong of
# D seconds (default 10):
#   alone       the ping-pong with no hogs
#   no_policy   with the hogs at cpu.weight 100
#   static      with the hogs' cpu.weight set to 10 by hand
#   cpu_weight  with ballastd's cpu_weight policy protecting /bench/pp, once
#               it has taken the hogs to its floor (10)
# Per mode, the medians over the rounds of the ping-pong's p50/p99 round
# trip and round trips/s, and of the hogs' spin loops per second (summed
# over the four); the p99 against alone and the hogs' throughput against
# no_policy (the issue's targets: p99 within 1.2x, throughput at least 90%).
. /usr/lib/ballast-vm.sh

RUNS=${RUNS:-3}
D=${D:-10}
echo +cpu >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable the cpu controller"
B=/sys/fs/cgroup/bench
mkdir "$B" && echo +cpu >"$B/cgroup.subtree_control" || fail "cannot create $B"
mkdir "$B/hog1" "$B/hog2" "$B/pp"
one_policy_config /bench weights cpu_weight '/bench/*' \
  '{"protect": ["/bench/pp"], "target_ms": 2, "release_ms": 1, "calm": 3, "hold": "4s", "min": 10}' 1s

hogs_weight() { echo "$1" >"$B/hog1/cpu.weight" && echo "$1" >"$B/hog2/cpu.weight"; }
hogs_at() { [ "$(cat "$B/hog1/cpu.weight")" = "$1" ] && [ "$(cat "$B/hog2/cpu.weight")" = "$1" ]; }

# measure MODE [hogs]: one ping-pong of D s (with the four spinners over the
# same D s if asked); appends "p50 p99 ops hog_ops" to /tmp/cpu.MODE.
measure() {
  local line hog_ops=0 f
  if [ "${2:-}" = hogs ]; then
    spinners "$B/hog1" 2 "$D" /tmp/spin1
    pids=$spun
    spinners "$B/hog2" 2 "$D" /tmp/spin2
    pids="$pids $spun"
  fi
  line=$(pingpong "$B/pp" "$D")
  if [ "${2:-}" = hogs ]; then
    wait $pids
    for f in /tmp/spin1.1 /tmp/spin1.2 /tmp/spin2.1 /tmp/spin2.2; do
      hog_ops=$((hog_ops + $(field ops_per_s "$(cat "$f")")))
    done
  fi
  echo "$(field p50_us "$line") $(field p99_us "$line") $(field ops_per_s "$line") $hog_ops" \
    >>"/tmp/cpu.$1"
  echo "bench: $1: $line hogs ops_per_s=$hog_ops"
}

# under_policy: the agent's cpu_weight against hogs and a ping-pong until
# the hogs are at the floor, then the measured round; the agent stops after.
under_policy() {
  local warm
  agent_ready
  spinners "$B/hog1" 2 $((D * 10)) && warm=$spun
  spinners "$B/hog2" 2 $((D * 10)) && warm="$warm $spun"
  in_cgroup "$B/pp" ballast-schedload pingpong $((D * 10)) >/dev/null &
  warm="$warm $!"
  eventually 120 "cpu_weight takes the hogs to its floor" hogs_at 10
  kill $warm
  wait $warm 2>/dev/null
  measure cpu_weight hogs
  hogs_at 10 || echo "bench: the hogs' weights moved during the measured round"
  agent_stop
  hogs_at 100 || fail "the hogs' cpu.weight is not back at 100 after the agent stops"
}

round=0
while [ $round -lt "$RUNS" ]; do
  round=$((round + 1))
  measure alone
  measure no_policy hogs
  hogs_weight 10
  measure static hogs
  hogs_weight 100
  under_policy
done

# median COLUMN MODE: the median of COLUMN (1 p50, 2 p99, 3 ops, 4 hog ops).
median() {
  cut -d' ' -f"$1" "/tmp/cpu.$2" | sort -n |
    awk '{ v[NR] = $1 } END { printf "%s", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

mode_json() {
  printf '"%s": {"pingpong_p50_us": %s, "pingpong_p99_us": %s, "pingpong_ops_per_s": %s, "hogs_spin_per_s": %s}' \
    "$1" "$(median 1 "$1")" "$(median 2 "$1")" "$(median 3 "$1")" "$(median 4 "$1")"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0) ? a / b : 0 }'; }

figure cpu_json "{\"runs\": $RUNS, \"seconds\": $D, $(mode_json alone), $(mode_json no_policy), \
$(mode_json static), $(mode_json cpu_weight), \
\"p99_vs_alone\": {\"no_policy\": $(ratio "$(median 2 no_policy)" "$(median 2 alone)"), \
\"static\": $(ratio "$(median 2 static)" "$(median 2 alone)"), \
\"cpu_weight\": $(ratio "$(median 2 cpu_weight)" "$(median 2 alone)")}, \
\"hogs_throughput_vs_no_policy\": {\"static\": $(ratio "$(median 4 static)" "$(median 4 no_policy)"), \
\"cpu_weight\": $(ratio "$(median 4 cpu_weight)" "$(median 4 no_policy)")}}"
