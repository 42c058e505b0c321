#!/bin/sh
# VM scenario: the sched source on the Debian 6.1 kernel. Its programs load and
# attach (CO-RE; no tracepoint missing), each workload's cgroup shows its
# signal — a CPU hog's on-CPU time against the kernel's cpu.stat, a pipe
# ping-pong's run-queue delay, mutex contention's futex waits — and the agent
# is started and stopped (SIGTERM, kill -9) four times under that load: each
# start and stop patches the kernel's hottest tracepoints while they run.
. /usr/lib/ballast-vm.sh

CG=/sys/fs/cgroup/sched
mkdir "$CG" || fail "cannot create $CG"
cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"}, "sched": {"interval": "200ms"},
 "journal": "/run/ballast/journal",
 "watch": {"include": ["/sched/**"]}}
JSON

of() { # of NAME CGROUP [MORE LABELS]: the series of NAME for CGROUP
  metric "$1" "cgroup=\"/sched/$2\"${3:+,$3}"
}

sched_read() { agent_scrape && metric_is ballast_cpu_busy_seconds_total 'cpu="0"' '>' 0; }
waits_seen() {
  agent_scrape &&
    metric_is ballast_cgroup_runq_delay_seconds 'cgroup="/sched/pingpong",quantile="0.99"' '>' 0 &&
    metric_is ballast_cgroup_futex_wait_seconds 'cgroup="/sched/futex",quantile="0.99"' '>' 0
}
settled() { # two scrapes agree: every slice of the hog is in the maps
  agent_scrape && a=$(of ballast_cgroup_oncpu_seconds_total spin 'scale="raw"') &&
    sleep 0.5 && agent_scrape && [ -n "$a" ] &&
    [ "$a" = "$(of ballast_cgroup_oncpu_seconds_total spin 'scale="raw"')" ]
}

round=0
while [ $round -lt 4 ]; do
  round=$((round + 1))
  t0=$(now)
  agent_start /run/ballast.json
  eventually 60 "round $round: the sched source reads its maps" sched_read
  figure "round${round}_ready_s" "$(since "$t0")"
  loads=
  for mode in spin pingpong futex; do
    mkdir -p "$CG/$mode"
    sh -c "echo \$\$ >$CG/$mode/cgroup.procs && exec ballast-schedload $mode 8 >/dev/null" &
    loads="$loads $!"
  done
  if [ $round -eq 1 ]; then
    grep "is missing on this kernel" "$AGENT_LOG" && fail "a tracepoint is missing on 6.1"
    # While they run: the ping-pong waits in the run queue, the mutex in futex.
    eventually 30 "run-queue delay of /sched/pingpong and futex waits of /sched/futex" waits_seen
    figure runq_delay_p99_s "$(of ballast_cgroup_runq_delay_seconds pingpong 'quantile="0.99"')"
    figure futex_wait_p99_s "$(of ballast_cgroup_futex_wait_seconds futex 'quantile="0.99"')"
  fi
  for pid in $loads; do wait "$pid" || fail "round $round: a ballast-schedload failed"; done
  if [ $round -eq 1 ]; then
    eventually 30 "the hog's on-CPU time settles" settled
    bpf=$(of ballast_cgroup_oncpu_seconds_total spin 'scale="raw"')
    kernel=$(awk '/^usage_usec/ { print $2 / 1e6 }' "$CG/spin/cpu.stat")
    figure oncpu_bpf_s "$bpf"
    figure oncpu_cpu_stat_s "$kernel"
    awk -v a="$bpf" -v b="$kernel" 'BEGIN { d = a - b; t = 0.02 * b; exit !(b > 0.5 && d * d <= t * t) }' ||
      fail "on-CPU time $bpf s is not within 2% of cpu.stat's $kernel s"
  fi
  if [ $((round % 2)) -eq 0 ]; then
    kill -9 "$agent"
    wait "$agent" 2>/dev/null
  else
    agent_stop
  fi
  for mode in spin pingpong futex; do rmdir "$CG/$mode"; done
done
