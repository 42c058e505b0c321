#!/bin/sh
# VM scenario 1: ballastd on the Debian 6.1 kernel. Its BPF programs load (CO-RE),
# cgroup events flow, the telemetry policy enrols a process, actors go back to
# their baseline when it goes, and SIGTERM ends the agent with status 0.
. /usr/lib/ballast-vm.sh

CG=/sys/fs/cgroup/vmtest

cat >/run/ballast.json <<'JSON'
{"metrics": {"listen": "127.0.0.1:9464"},
 "journal": "/run/ballast/journal",
 "watch": {"include": ["/vmtest/**"]},
 "policies": [{"name": "telemetry", "type": "telemetry", "interval": "500ms",
               "select": {"cgroups": ["/vmtest/**"]}}]}
JSON

mkdir "$CG" || fail "cannot create $CG"

t0=$(now)
agent_start /run/ballast.json

# Ready: /metrics answers and the start-up scan is done (it found /vmtest).
ready() {
  agent_scrape &&
    metric_is ballast_rescans_total '' '>=' 1 &&
    metric_is ballast_actors 'type="cgroup"' '==' 1
}
eventually 60 "ballastd answers on /metrics after its start-up scan" ready
figure agent_ready_s "$(since "$t0")"
grep "is missing on this kernel" "$AGENT_LOG" || true
figure tracepoints_missing "$(grep -c "is missing on this kernel" "$AGENT_LOG" || true)"
cgroups_before=$(metric ballast_actors 'type="cgroup"')

mkdir "$CG/job" || fail "cannot create $CG/job"
t1=$(now)
sh -c "echo \$\$ >$CG/job/cgroup.procs && exec sleep 600" &
pid=$!

enrolled() {
  agent_scrape &&
    metric_is ballast_cgroup_events_total 'kind="cgroup_mkdir"' '>=' 1 &&
    metric_is ballast_cgroup_events_total 'kind="attach"' '>=' 1 &&
    metric_is ballast_actors 'type="cgroup"' '==' $((cgroups_before + 1)) &&
    metric_is ballast_policy_actors 'policy="telemetry"' '==' 1 &&
    metric_is ballast_process_resident_bytes \
      "policy=\"telemetry\",cgroup=\"/vmtest/job\",pid=\"$pid\",comm=\"sleep\"" '>' 0 &&
    metric_is ballast_cgroup_pressure_stall_seconds_total \
      'cgroup="/vmtest/job",resource="cpu",kind="some"' '>=' 0
}
eventually 60 "events, cgroup actor and telemetry for the sleep in /vmtest/job" enrolled
figure enrol_s "$(since "$t1")"
metric_is ballast_events_lost_total '' '==' 0 || fail "ballast_events_lost_total is $(metric ballast_events_lost_total)"

kill "$pid"
wait "$pid" 2>/dev/null || true
eventually 30 "rmdir $CG/job" rmdir "$CG/job"

back_to_baseline() {
  agent_scrape &&
    metric_is ballast_actors 'type="cgroup"' '==' "$cgroups_before" &&
    metric_is ballast_actors 'type="policy"' '==' 0 &&
    metric_is ballast_policy_actors 'policy="telemetry"' '==' 0
}
eventually 60 "actors back to their baseline after the job went" back_to_baseline
for kind in cgroup_mkdir attach exec exit cgroup_rmdir; do
  metric_is ballast_cgroup_events_total "kind=\"$kind\"" '>=' 1 ||
    fail "ballast_cgroup_events_total{kind=\"$kind\"} is '$(metric ballast_cgroup_events_total "kind=\"$kind\"")', want >= 1"
done
metric_is ballast_events_lost_total '' '==' 0 || fail "ballast_events_lost_total is $(metric ballast_events_lost_total)"
metric_is ballast_event_handling_seconds_count '' '>=' 2 || fail "ballast_event_handling_seconds_count below 2"
[ "$(series ballast_process_resident_bytes)" -eq 0 ] || fail "ballast_process_resident_bytes still has series"
count=$(metric ballast_event_handling_seconds_count)
sum=$(metric ballast_event_handling_seconds_sum)
figure event_handling_mean_ms "$(awk -v s="$sum" -v c="$count" 'BEGIN { printf "%.2f", 1000 * s / c }')"

agent_stop
