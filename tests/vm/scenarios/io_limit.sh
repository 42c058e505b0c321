#!/bin/sh
# VM scenario: io_limit with the io controller on 6.1, on a null_blk disk
# whose requests take 1 ms each, one at a time. /jobs/hog reads it with 8
# threads back to back; /jobs/web, which the policy protects, reads 4 KiB
# then thinks 10 ms: alone it stalls on IO ~10% of the time, behind the hog
# for most of it. Its stall takes the hog's io.max down to a share of the
# rates it had; the hog stops and the device's line goes away. io.max is put
# back by SIGTERM and, after kill -9, by the journal at the next start. The
# web reader's p99 read time alone, behind the hog, and behind the limited
# hog is reported, not asserted (io.max is lifted as soon as web is calm,
# and taken again when it is not).
. /usr/lib/ballast-vm.sh

null_blk_on 1000000 1
echo +io >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable the io controller"
J=/sys/fs/cgroup/jobs
mkdir "$J" && echo +io >"$J/cgroup.subtree_control" || fail "cannot create $J"
mkdir "$J/hog" "$J/web"
one_policy_config /jobs io io_limit /jobs/hog \
  '{"protect": ["/jobs/web"], "threshold": 25, "release": 15, "calm": 3, "min_share": 0.05}' 1s

io_stall_us() { sed -n 's/^some .*total=\([0-9]*\)$/\1/p' "$J/web/io.pressure"; }
# web SECONDS: web's reads in the foreground; its last line, and its share
# of the time stalled on IO as " stall=S".
web() {
  local s0 t0 out
  s0=$(io_stall_us)
  t0=$(now)
  out=$(in_cgroup "$J/web" ballast-schedload read "$1" /dev/nullb0 1 10 | tail -n 1)
  echo "$out stall=$(awk -v s="$(($(io_stall_us) - s0))" -v t="$(since "$t0")" \
    'BEGIN { printf "%.3f", s / (t * 1e6) }')"
}
web_start() { in_cgroup "$J/web" ballast-schedload read 900 /dev/nullb0 1 10 >/dev/null & w=$!; }
hog_start() { in_cgroup "$J/hog" ballast-schedload read 900 /dev/nullb0 8 0 >/dev/null & hog=$!; }
limited() { grep -q "^$nullb rbps=[0-9]" "$J/hog/io.max"; }
unlimited() { ! grep -q "^$nullb " "$J/hog/io.max"; }

alone=$(web 5)
figure web_read_p99_us_alone "$(field p99_us "$alone")"
figure web_io_stall_alone "$(field stall "$alone")"
hog_start
sleep 1
behind=$(web 5)
figure web_read_p99_us_behind_hog "$(field p99_us "$behind")"
figure web_io_stall_behind_hog "$(field stall "$behind")"

agent_ready
web_start
t0=$(now)
eventually 90 "web's IO stall puts an io.max on the hog's device" limited
figure limited_s "$(since "$t0")"
echo "hog's io.max: $(cat "$J/hog/io.max")"
agent_scrape && metric_is ballast_policy_io_share 'cgroup="/jobs/hog"' '<' 1 ||
  fail "ballast_policy_io_share of /jobs/hog is '$(metric ballast_policy_io_share 'cgroup="/jobs/hog"')'"
kill $w
with=$(web 5)
figure web_read_p99_us_with_policy "$(field p99_us "$with")"
figure web_io_stall_with_policy "$(field stall "$with")"

kill $hog
t0=$(now)
eventually 90 "the limit is lifted once the hog stops" unlimited
figure lifted_s "$(since "$t0")"

hog_start
web_start
eventually 90 "the limit comes back" limited
agent_stop
unlimited || fail "io.max is '$(cat "$J/hog/io.max")' after SIGTERM"

agent_ready
eventually 90 "the limit comes back under the new agent" limited
kill -9 "$agent"
wait "$agent" 2>/dev/null
kill $hog $w
agent_ready
unlimited || fail "io.max is '$(cat "$J/hog/io.max")' after kill -9 and a start"
agent_stop

echo "$nullb enable=1" >/sys/fs/cgroup/io.cost.qos || fail "cannot enable iocost on $nullb"
one_policy_config /jobs io io_limit /jobs/hog \
  '{"protect": ["/jobs/web"], "mode": "weight", "threshold": 25, "release": 15, "calm": 3, "min_share": 0.05}' 1s
default_weight() { sed -n 's/^default //p' "$J/hog/io.weight"; }
weight_cut() { [ "$(default_weight)" -lt 100 ]; }
hog_start
sleep 1
behind=$(web 5)
figure web_io_stall_behind_hog_iocost "$(field stall "$behind")"
web_start
agent_ready
eventually 90 "web's IO stall lowers the hog's io.weight" weight_cut
figure hog_io_weight_cut_to "$(default_weight)"
agent_stop
[ "$(default_weight)" = 100 ] || fail "io.weight is '$(cat "$J/hog/io.weight")' after SIGTERM"
kill $hog $w
