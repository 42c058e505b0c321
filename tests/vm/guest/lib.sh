# Helpers for scenarios in the ballast test VM (busybox sh), sourced with
#   . /usr/lib/ballast-vm.sh
# Everything under qemu TCG runs about 10x slower than on a host: poll with
# generous limits (eventually) instead of fixed sleeps.

# fail REASON: ends the scenario; /init reports "BALLAST-VM-RESULT: FAIL REASON".
fail() {
  echo "scenario: FAIL: $*"
  echo "$*" >/tmp/ballast-vm-fail-reason
  exit 1
}

# figure NAME VALUE: a figure the host runner prints with the result.
figure() {
  echo "BALLAST-VM-FIGURE: $1=$2"
}

# now: seconds since boot, with hundredths.
now() {
  read -r t _ </proc/uptime
  echo "$t"
}

# since T0: seconds elapsed since T0 (from now).
since() {
  awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f\n", b - a }'
}

# eventually SECONDS WHAT COMMAND...: runs COMMAND every 0.2 s until it succeeds;
# fails the scenario with "WHAT: not true after SECONDS s" if it never does.
eventually() {
  local limit=$1 what=$2 t0
  shift 2
  t0=$(now)
  until "$@"; do
    if awk -v a="$t0" -v b="$(now)" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
      fail "$what: not true after $limit s"
    fi
    sleep 0.2
  done
}

# swap_on SIZE: swap of SIZE (like 256M) on /dev/zram0, compressed in RAM with
# zram's default (lzo-rle). Loads zsmalloc and zram from /lib/ballast-modules
# (make_initramfs.sh --modules), sets the disk size, mkswap, swapon. zram keeps
# pages that do not compress at full size, and its memory is not charged to any
# cgroup. Fails the scenario, saying which step failed. Once per boot.
swap_on() {
  local size=$1 dev=/dev/zram0 sys=/sys/block/zram0 m nums
  for m in zsmalloc zram; do
    [ -d "/sys/module/$m" ] && continue
    [ -f "/lib/ballast-modules/$m.ko" ] ||
      fail "swap_on: /lib/ballast-modules/$m.ko is not in the image (fetch_kernel.sh keeps it)"
    insmod "/lib/ballast-modules/$m.ko" || fail "swap_on: insmod $m.ko failed"
  done
  [ -e "$sys" ] || fail "swap_on: zram is loaded but $sys does not exist"
  # devtmpfs (mounted by /init) makes the node; without it, make it from sysfs.
  if [ ! -b "$dev" ]; then
    nums=$(cat "$sys/dev") && mknod "$dev" b "${nums%:*}" "${nums#*:}" ||
      fail "swap_on: no $dev and cannot mknod it from $sys/dev"
  fi
  echo "$size" >"$sys/disksize" || fail "swap_on: cannot set $sys/disksize to $size"
  mkswap "$dev" >/dev/null || fail "swap_on: mkswap $dev failed"
  swapon "$dev" || fail "swap_on: swapon $dev failed"
  grep -q "^$dev " /proc/swaps || fail "swap_on: $dev is not in /proc/swaps after swapon"
  echo "swap_on: $dev of $(cat "$sys/disksize") bytes, $(cat "$sys/comp_algorithm")"
}

# null_blk_on COMPLETION_NS DEPTH: /dev/nullb0, a 1 GiB block device (no
# data kept) whose every request completes COMPLETION_NS after it is issued
# (a timer), DEPTH requests at a time: a disk that queues, for IO policies.
# Its MAJ:MIN in $nullb. Once per boot.
null_blk_on() {
  local m
  for m in configfs null_blk; do
    [ -d "/sys/module/$m" ] && continue
    [ -f "/lib/ballast-modules/$m.ko" ] ||
      fail "null_blk_on: /lib/ballast-modules/$m.ko is not in the image (fetch_kernel.sh keeps it)"
    if [ $m = null_blk ]; then
      insmod "/lib/ballast-modules/$m.ko" queue_mode=2 irqmode=2 completion_nsec="$1" \
        hw_queue_depth="$2" submit_queues=1 nr_devices=1 gb=1 bs=4096 ||
        fail "null_blk_on: insmod null_blk.ko failed"
    else
      insmod "/lib/ballast-modules/$m.ko" || fail "null_blk_on: insmod $m.ko failed"
    fi
  done
  nullb=$(cat /sys/block/nullb0/dev) || fail "null_blk_on: no /sys/block/nullb0"
  [ -b /dev/nullb0 ] || mknod /dev/nullb0 b "${nullb%:*}" "${nullb#*:}" ||
    fail "null_blk_on: no /dev/nullb0 and cannot mknod it"
}

# scrape URL: stores the metrics page in /tmp/metrics; false if it cannot be read
# within 20 s. (busybox 1.35 wget -T crashes with a segfault; timeout does it.)
scrape() {
  timeout 20 wget -q -O /tmp/metrics.part "$1" 2>/dev/null && mv /tmp/metrics.part /tmp/metrics
}

# metric NAME [LABELS]: value of the first series of NAME in the last scrape whose
# labels include every comma-separated k="v" pair of LABELS; empty if none.
metric() {
  [ -f /tmp/metrics ] || return 0
  awk -v name="$1" -v labels="${2:-}" '
    /^#/ || NF < 2 { next }
    {
      key = substr($0, 1, length($0) - length($NF) - 1)
      i = index(key, "{")
      n = i ? substr(key, 1, i - 1) : key
      if (n != name) next
      nl = split(labels, want, ",")
      for (j = 1; j <= nl; j++)
        if (!index(key, "{" want[j]) && !index(key, "," want[j])) next
      print $NF
      exit
    }' /tmp/metrics
}

# metric_is NAME LABELS OP VALUE: true if that series exists and "value OP VALUE"
# holds (OP one of == != < <= > >=).
metric_is() {
  local v
  v=$(metric "$1" "$2")
  [ -n "$v" ] && awk -v a="$v" -v op="$3" -v b="$4" 'BEGIN {
    a += 0; b += 0
    ok = (op == "==" && a == b) || (op == "!=" && a != b) || (op == "<" && a < b) ||
         (op == "<=" && a <= b) || (op == ">" && a > b) || (op == ">=" && a >= b)
    exit !ok }'
}

# series NAME: how many series of NAME the last scrape holds.
series() {
  grep -c "^$1[{ ]" /tmp/metrics || true
}

# The agent under test: agent_start CONFIG starts ballastd in the background
# (pid in $agent, log in $AGENT_LOG) and, should the scenario fail, shows its log
# and last metrics on the way out.
AGENT_URL=http://127.0.0.1:9464/metrics
AGENT_LOG=/run/ballastd.log
agent_start() {
  local config=$1
  shift
  ballastd --config "$config" "$@" >"$AGENT_LOG" 2>&1 &
  agent=$!
  trap 'agent_on_exit $?' EXIT
}

agent_on_exit() {
  [ "$1" -eq 0 ] && return
  echo "---- ballastd log ----"
  cat "$AGENT_LOG"
  echo "---- last scrape (no histogram buckets) ----"
  grep '^ballast_' /tmp/metrics 2>/dev/null | grep -v '_bucket{'
  echo "---- end ----"
}

# agent_exited: a zombie, or already reaped by the shell (wait still has its status).
agent_exited() {
  [ ! -e "/proc/$agent" ] || [ "$(awk '{print $3}' "/proc/$agent/stat" 2>/dev/null)" = Z ]
}

# agent_scrape: scrapes the agent's /metrics; fails the scenario at once if it died.
agent_scrape() {
  agent_exited && fail "ballastd exited early"
  scrape "$AGENT_URL"
}

# agent_stop: SIGTERM; the agent must exit with status 0 within 60 s.
agent_stop() {
  local t0 rc
  t0=$(now)
  kill -TERM "$agent"
  eventually 60 "ballastd exits after SIGTERM" agent_exited
  wait "$agent"
  rc=$?
  figure sigterm_exit_s "$(since "$t0")"
  [ "$rc" -eq 0 ] || fail "ballastd exited with status $rc after SIGTERM"
}

# ---- jobs ----

# The job root of the default config; ballastctl with a timeout that a TCG
# guest under load still meets.
JOBS=/sys/fs/cgroup/ballast-jobs
ctl() { ballastctl --timeout 20s "$@"; }

# ---- benchmark JSON ----

# Awk functions for a benchmark's JSON, to put before its program:
# med(LIST) the median of a space-separated list, arr(LIST) the list as a
# JSON array.
STATS_AWK='
  function med(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((n + 1) / 2)]
  }
  function arr(list,   n, v, i, out) {
    n = split(list, v, " "); out = ""
    for (i = 1; i <= n; i++) out = out (i > 1 ? "," : "") v[i]
    return "[" out "]"
  }'

# ---- memory workloads and policies ----

# hog_start CGROUP LOG ARGS...: memhog in CGROUP, its output in LOG; pid in $hog.
hog_start() {
  local cg=$1 log=$2
  shift 2
  sh -c "echo \$\$ >$cg/cgroup.procs && exec ballast-memhog $*" >"$log" 2>&1 &
  hog=$!
}

# hog_rate LOG N: median touched_pages_per_s of the last N per-second lines.
hog_rate() {
  grep -o 'touched_pages_per_s=[0-9]*' "$1" | grep -v done | tail -n "$2" | cut -d= -f2 |
    sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}

# stall_us CGROUP: the "some" total of its memory.pressure, in microseconds.
stall_us() {
  sed -n 's/^some .*total=\([0-9]*\)$/\1/p' "$1/memory.pressure"
}

# stall_share CGROUP STALL_US T0: the share of the time since T0 (from now)
# that CGROUP was stalled on memory, STALL_US being stall_us at T0.
stall_share() {
  awk -v s="$(($(stall_us "$1") - $2))" -v t="$(since "$3")" 'BEGIN { printf "%.3f", s / (t * 1e6) }'
}

# hog_lines LOG: per-second lines printed so far.
hog_lines() {
  grep -c ' t=' "$1" || true
}

# mib VALUE: bytes (or "max") as MiB with one decimal.
mib() {
  [ "$1" = max ] && { echo max; return; }
  awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'
}

# within LOW HIGH FILE: the number in FILE is in [LOW, HIGH] (bytes; max fails).
within() {
  local v
  v=$(cat "$3")
  [ "$v" != max ] && [ "$v" -ge "$1" ] && [ "$v" -le "$2" ]
}

# ---- CPU workloads (ballast-schedload) ----

# in_cgroup CGROUP COMMAND...: COMMAND in CGROUP (a path under
# /sys/fs/cgroup) in place of this shell, so that a background job's $! is
# COMMAND's pid. Only in a subshell: a background job or a pipeline.
in_cgroup() {
  exec sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$@"
}

# spinners CGROUP N SECONDS [OUT]: N spinning processes in CGROUP (a path
# under /sys/fs/cgroup), pids in $spun; the last line of spinner i in OUT.i.
spinners() {
  local i=0
  spun=
  while [ $i -lt "$2" ]; do
    i=$((i + 1))
    in_cgroup "$1" ballast-schedload spin "$3" >"${4:-/dev/null}${4:+.$i}" &
    spun="$spun $!"
  done
}

# pingpong CGROUP SECONDS: a pipe ping-pong in CGROUP, in the foreground;
# prints its last line ("schedload: pingpong ops_per_s=N p50_us=A p99_us=B").
pingpong() {
  in_cgroup "$1" ballast-schedload pingpong "$2" | tail -n 1
}

# field NAME LINE: the value of NAME=value in LINE.
field() {
  echo "$2" | sed -n "s/.*$1=\([0-9.]*\).*/\1/p"
}

# one_policy_config WATCH NAME TYPE SELECT_GLOB PARAMS_JSON INTERVAL: writes
# /run/ballast.json watching WATCH/** with that one policy.
one_policy_config() {
  cat >/run/ballast.json <<JSON
{"metrics": {"listen": "127.0.0.1:9464"}, "journal": "/run/ballast/journal",
 "watch": {"include": ["$1/**"]},
 "policies": [{"name": "$2", "type": "$3", "interval": "$6",
               "select": {"cgroups": ["$4"]}, "params": $5}]}
JSON
}

# agent_ready [ARGS]: agent_start /run/ballast.json, then waits for its first scan.
agent_ready() {
  agent_start /run/ballast.json "$@"
  ready() { agent_scrape && metric_is ballast_ready '' '==' 1; }
  eventually 60 "ballastd answers on /metrics after its start-up scan" ready
}
