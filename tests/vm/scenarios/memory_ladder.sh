#!/bin/sh
# VM scenario: the budget ladder, dry-run and crash safety, against
# ballast-memhog with 256 MiB of zram swap.
#  - budget walks trace -> throttle (memory.high) -> freeze -> kill as the
#    workload's 96 MiB cross each rung, then steps back down (thaw, memory.high
#    released) once the kill freed the memory.
#  - dry-run: the same ladder is decided, logged and exported, and every knob
#    file is byte-identical before and after.
#  - kill -9 of the agent while the budget holds memory.high and a frozen
#    cgroup, then a restart: memory.high is back to max and the cgroup thawed.
. /usr/lib/ballast-vm.sh

TOP=/sys/fs/cgroup/lad
CG=$TOP/budget
KNOBS="memory.high memory.max memory.min memory.low cgroup.freeze"

swap_on 256M
echo "+memory" >/sys/fs/cgroup/cgroup.subtree_control || fail "cannot enable memory in the root"
mkdir "$TOP" "$CG" || fail "cannot create $CG"
echo "+memory" >"$TOP/cgroup.subtree_control" || fail "cannot enable memory in $TOP"

frozen() { grep -q '^frozen 1' "$CG/cgroup.events"; }
thawed() { grep -q '^frozen 0' "$CG/cgroup.events"; }
knob_is() { [ "$(cat "$CG/$1")" = "$2" ]; }
logged() { grep -q "$1" "$AGENT_LOG"; }
snapshot() { for k in $KNOBS; do printf '%s=%s\n' "$k" "$(cat "$CG/$k")"; done; }

# 1. The whole ladder, up and down.
one_policy_config /lad budget budget /lad/budget \
  '{"trace": "16M", "throttle": "32M", "throttle_high": "200M", "freeze": "48M", "kill": "64M", "cooldown": "2s", "hysteresis": 0.2}' 250ms
agent_ready
t0=$(now)
hog_start "$CG" /tmp/hog1.log --hot 96M
eventually 60 "throttle: memory.high = 200M" knob_is memory.high 209715200
figure ladder_throttle_s "$(since "$t0")"
eventually 60 "freeze: the cgroup is frozen" frozen
figure ladder_freeze_s "$(since "$t0")"
eventually 60 "kill: memhog is killed" sh -c "! kill -0 $hog 2>/dev/null"
wait "$hog" 2>/dev/null
figure ladder_kill_s "$(since "$t0")"
for step in "ok -> trace" "trace -> throttle" "throttle -> freeze" "freeze -> kill"; do
  logged "/lad/budget: $step" || fail "the agent did not log '$step'"
done
t1=$(now)
eventually 60 "the ladder steps down: thawed" thawed
eventually 60 "the ladder steps down: memory.high released" knob_is memory.high max
at_ok() { agent_scrape && metric_is ballast_policy_level 'policy="budget"' '==' 0; }
eventually 60 "ballast_policy_level{policy=\"budget\"} is back to 0" at_ok
figure ladder_down_s "$(since "$t1")"
for step in "kill -> freeze" "freeze -> throttle" "throttle -> trace" "trace -> ok"; do
  logged "/lad/budget: $step" || fail "the agent did not log '$step' on the way down"
done
agent_stop

# 2. Dry-run: decided, logged, exported; nothing written.
one_policy_config /lad budget budget /lad/budget \
  '{"throttle": "32M", "throttle_high": "200M", "freeze": "48M", "cooldown": "1s"}' 250ms
snapshot >/tmp/before
agent_ready --dry-run
hog_start "$CG" /tmp/hog2.log --hot 96M
eventually 60 "dry-run: the agent logs the freeze it would write" logged "dry-run: would write cgroup.freeze=1 in /lad/budget"
dry() { agent_scrape && metric_is ballast_knob_writes_total 'mode="dry_run"' '>=' 2 &&
        metric_is ballast_policy_level 'policy="budget"' '==' 3; }
eventually 30 "dry-run writes counted and the level exported" dry
snapshot >/tmp/during
agent_stop
snapshot >/tmp/after
cmp -s /tmp/before /tmp/during && cmp -s /tmp/before /tmp/after ||
  fail "dry-run changed knobs: $(diff /tmp/before /tmp/after | tr '\n' ' ')"
figure dry_run_writes "$(metric ballast_knob_writes_total 'mode="dry_run"')"

# 3. kill -9 while memory.high is held and the cgroup frozen; the restarted
#    agent (with no policies) restores both from its journal.
agent_ready
eventually 60 "freeze before the crash" frozen
knob_is memory.high 209715200 || fail "memory.high is not held before the crash"
kill -KILL "$agent"
wait "$agent" 2>/dev/null
frozen || fail "the cgroup thawed by itself after kill -9"
cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"}, "journal": "/run/ballast/journal",
 "watch": {"include": ["/lad/**"]}, "policies": []}
JSON
t2=$(now)
agent_ready
eventually 30 "after restart: thawed" thawed
eventually 30 "after restart: memory.high back to max" knob_is memory.high max
figure crash_restore_s "$(since "$t2")"
logged "restored cgroup.freeze=0 in /lad/budget" || fail "the restarted agent did not log the thaw from its journal"
agent_stop
kill "$hog"
wait "$hog" 2>/dev/null
eventually 30 "rmdir $CG" rmdir "$CG"
rmdir "$TOP"
