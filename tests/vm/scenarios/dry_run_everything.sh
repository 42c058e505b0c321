#!/bin/sh
# VM scenario: dry-run writes nothing, ever. Every policy type runs in dry-run
# over two cgroups with ballast-memhog in them, and every control command is
# sent (freeze, thaw, release, dry-run, apply); every file under the tree that
# the agent could write is snapshotted before, during and after, and must be
# byte-identical. Left out of the snapshot, with the reason: cgroup.procs and
# cgroup.threads (membership, changed by processes, never by the agent) and
# *.pressure (writable for PSI triggers, which change no state; reads are
# stall counters). Write-only files (cgroup.kill, memory.reclaim) are listed
# as such: a write to them would show in the kill of memhog or in
# memory.stat, both checked.
. /usr/lib/ballast-vm.sh

TOP=/sys/fs/cgroup/dry
swap_on 128M
echo "+memory +cpu +io +pids" >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable controllers in the root"
mkdir "$TOP" "$TOP/a" "$TOP/b" || fail "cannot create $TOP"
echo "+memory +cpu +io +pids" >"$TOP/cgroup.subtree_control" || fail "cannot enable controllers in $TOP"

snapshot() {
  find "$TOP" -type f | sort | while read -r f; do
    case "${f##*/}" in cgroup.procs|cgroup.threads|*.pressure) continue ;; esac
    mode=$(stat -c %a "$f")
    case "$mode" in 2??|6??) ;; *) continue ;; esac
    if content=$(cat "$f" 2>/dev/null); then
      printf '%s=%s\n' "$f" "$content" | tr '\n' ' '
      echo
    else
      echo "$f (write-only)"
    fi
  done
}

cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"}, "journal": "/run/ballast/journal", "dry_run": true,
 "watch": {"include": ["/dry/**"]},
 "policies": [
  {"name": "telemetry", "type": "telemetry", "interval": "250ms", "select": {"cgroups": ["/dry/**"]}},
  {"name": "senpai", "type": "senpai", "interval": "250ms", "select": {"cgroups": ["/dry/a"]},
   "params": {"limit_min": "8M"}},
  {"name": "pi", "type": "pi_pressure", "interval": "250ms", "select": {"cgroups": ["/dry/b"]},
   "params": {"limit_min": "8M"}},
  {"name": "wss", "type": "wss_probe", "interval": "250ms", "select": {"cgroups": ["/dry/a"]}},
  {"name": "budget", "type": "budget", "interval": "250ms", "select": {"cgroups": ["/dry/b"]},
   "params": {"trace": "4M", "throttle": "8M", "freeze": "16M", "kill": "24M", "cooldown": "1s"}},
  {"name": "floor", "type": "memory_floor", "interval": "250ms", "select": {"cgroups": ["/dry/*"]},
   "params": {"floor": "64M"}}]}
JSON

hog_start "$TOP/a" /tmp/hog-a.log --hot 24M --cold 24M
hog_a=$hog
hog_start "$TOP/b" /tmp/hog-b.log --hot 40M
hog_b=$hog
filled() { grep -q filled /tmp/hog-a.log && grep -q filled /tmp/hog-b.log; }
eventually 120 "both memhogs filled their memory" filled
snapshot >/tmp/before
figure snapshot_files "$(wc -l </tmp/before)"

agent_ready
ctl() { ballastctl --timeout 30s "$@"; }
out=$(ctl freeze /dry/a) || fail "freeze in dry-run: exit $?: $out"
[ "$out" = "freeze /dry/a: dry-run: not written" ] || fail "freeze in dry-run said: $out"
out=$(ctl thaw /dry/a) || fail "thaw in dry-run: $out"
ctl release /dry/b >/dev/null || fail "release in dry-run"
ctl dry-run on >/dev/null || fail "dry-run on"
ctl apply /run/ballast.json >/dev/null || fail "apply in dry-run"
# The policies decide while the workloads run: wss_probe steps down, the
# budget climbs past kill, the floor splits; every write is counted, none made.
decided() {
  agent_scrape && metric_is ballast_knob_writes_total 'mode="dry_run"' '>=' 6 &&
    metric_is ballast_policy_level 'policy="budget"' '>=' 3
}
eventually 120 "every policy decided in dry-run" decided
logged() { grep -q "$1" "$AGENT_LOG"; }
for what in "dry-run: would write memory.min" "dry-run: would write memory.high" \
            "dry-run: would write cgroup.freeze=1 in /dry/a" "dry-run: would write cgroup.freeze=1 in /dry/b"; do
  logged "$what" || fail "the agent did not log '$what'"
done
snapshot >/tmp/during
agent_stop
snapshot >/tmp/after
kill -0 "$hog_a" && kill -0 "$hog_b" || fail "a memhog was killed in dry-run"
for s in during after; do
  cmp -s /tmp/before /tmp/$s || fail "dry-run changed files ($s): $(diff /tmp/before /tmp/$s | grep '^[-+]/' | tr '\n' ' ')"
done
figure dry_run_writes "$(metric ballast_knob_writes_total 'mode="dry_run"')"
figure real_writes "$(metric ballast_knob_writes_total 'mode="write",result="ok"')"
kill "$hog_a" "$hog_b"
wait "$hog_a" "$hog_b" 2>/dev/null
for c in a b; do eventually 30 "rmdir $TOP/$c" rmdir "$TOP/$c"; done
rmdir "$TOP"
