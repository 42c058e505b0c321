// Construction of the agent's metric families and the small helpers that
// keep label values in one place.
#include "actors/metrics/agent_metrics.hpp"

#include "ballast_version.hpp"

#include <caf/config.hpp>
#include <sys/utsname.h>

#include <ctime>

namespace ballast {

using namespace prometheus;

namespace {

// Event handling and policy start latency: fine buckets below 1 ms, where
// the targets are.
const Histogram::BucketBoundaries latency_buckets = {
    10e-6,  25e-6, 50e-6,  75e-6, 100e-6, 150e-6, 200e-6, 300e-6, 400e-6, 500e-6,
    750e-6, 1e-3,  1.5e-3, 2e-3,  5e-3,   10e-3,  25e-3,  100e-3, 1.0};

constexpr std::array<const char *, 5> actor_type_names = {"supervisor", "source", "registry",
                                                          "cgroup", "policy"};

std::string kernel_release() {
  utsname u{};
  return uname(&u) == 0 ? u.release : "unknown";
}

std::string caf_version() {
  return std::to_string(CAF_VERSION / 10000) + "." + std::to_string(CAF_VERSION / 100 % 100) + "." +
         std::to_string(CAF_VERSION % 100);
}

} // namespace

const char *to_string(restore_reason r) {
  switch (r) {
  case restore_reason::policy_ended:
    return "policy_ended";
  case restore_reason::policy_failed:
    return "policy_failed";
  case restore_reason::released:
    return "released";
  case restore_reason::shutdown:
    return "shutdown";
  case restore_reason::journal:
    return "journal";
  case restore_reason::actor_failed:
    return "actor_failed";
  }
  return "unknown";
}

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000u + uint64_t(ts.tv_nsec);
}

double seconds_since(uint64_t ktime_ns) {
  uint64_t now = monotonic_ns();
  return now > ktime_ns ? double(now - ktime_ns) / 1e9 : 0.0;
}

agent_metrics::agent_metrics()
    : registry_(std::make_shared<Registry>()),
      events_(BuildCounter()
                  .Name("ballast_cgroup_events_total")
                  .Help("cgroup and process lifecycle events received, by kind")
                  .Register(*registry_)),
      events_lost_(BuildCounter()
                       .Name("ballast_events_lost_total")
                       .Help("Ring buffer records the kernel could not deliver")
                       .Register(*registry_)
                       .Add({})),
      actors_(BuildGauge().Name("ballast_actors").Help("Live actors by type").Register(*registry_)),
      policy_actors_(BuildGauge()
                         .Name("ballast_policy_actors")
                         .Help("Live policy actors by configured policy")
                         .Register(*registry_)),
      event_handling_(
          BuildHistogram()
              .Name("ballast_event_handling_seconds")
              .Help("From the kernel timestamp of an event to its cgroup actor having handled it")
              .Register(*registry_)
              .Add({}, latency_buckets)),
      policy_start_(BuildHistogram()
                        .Name("ballast_policy_start_seconds")
                        .Help("From the kernel timestamp of an attach or exec to the enrolled "
                              "policy actor's first tick")
                        .Register(*registry_)
                        .Add({}, latency_buckets)),
      knob_writes_(BuildCounter()
                       .Name("ballast_knob_writes_total")
                       .Help("Writes of cgroup knobs by claims and restores; mode=dry_run were "
                             "computed, not written")
                       .Register(*registry_)),
      writes_done_(knob_writes_.Add({{"mode", "write"}, {"result", "ok"}})),
      writes_dry_run_(knob_writes_.Add({{"mode", "dry_run"}, {"result", "ok"}})),
      writes_failed_(knob_writes_.Add({{"mode", "write"}, {"result", "error"}})),
      claims_(BuildGauge()
                  .Name("ballast_claims")
                  .Help("Standing claims by knob, over all cgroups (dry-run claims included)")
                  .Register(*registry_)),
      knob_restores_(
          BuildCounter()
              .Name("ballast_knob_restores_total")
              .Help("Knobs put back to their original value or the next standing claim, by reason")
              .Register(*registry_)),
      actor_restarts_(
          BuildCounter()
              .Name("ballast_actor_restarts_total")
              .Help("Actors that failed (exception, kill) and were started again, by type")
              .Register(*registry_)),
      policies_parked_(BuildGauge()
                           .Name("ballast_policies_parked")
                           .Help("Policy actors not restarted after failing too often in a row")
                           .Register(*registry_)),
      restores_failed_(BuildCounter()
                           .Name("ballast_knob_restore_failures_total")
                           .Help("Restores that could not be written (the cgroup still exists)")
                           .Register(*registry_)
                           .Add({})),
      source_restarts_(BuildCounter()
                           .Name("ballast_source_restarts_total")
                           .Help("Event sources restarted by the supervisor after they died")
                           .Register(*registry_)
                           .Add({})),
      unwatched_events_(
          BuildCounter()
              .Name("ballast_unwatched_events_total")
              .Help("Events for cgroups no watch glob selects or processes not followed (ignored)")
              .Register(*registry_)
              .Add({})),
      proc_read_errors_(BuildCounter()
                            .Name("ballast_proc_read_errors_total")
                            .Help("Processes that exited before their /proc entry could be read")
                            .Register(*registry_)
                            .Add({})),
      journal_errors_(BuildCounter()
                          .Name("ballast_journal_errors_total")
                          .Help("Journal lines that were corrupt or could not be written")
                          .Register(*registry_)
                          .Add({})),
      rescans_(BuildCounter()
                   .Name("ballast_rescans_total")
                   .Help("Full cgroupfs scans (start, source restart, lost events)")
                   .Register(*registry_)
                   .Add({})),
      ready_(BuildGauge()
                 .Name("ballast_ready")
                 .Help("1 once the start-up scan has handed every cgroup and process to its actor")
                 .Register(*registry_)
                 .Add({})),
      reloads_(BuildCounter()
                   .Name("ballast_config_reloads_total")
                   .Help("Config reloads by result")
                   .Register(*registry_)),
      process_cpu_(BuildCounter()
                       .Name("ballast_process_cpu_seconds_total")
                       .Help("CPU time (user + system) of an enrolled process")
                       .Register(*registry_)),
      process_rss_(BuildGauge()
                       .Name("ballast_process_resident_bytes")
                       .Help("Resident set size of an enrolled process")
                       .Register(*registry_)),
      cgroup_pressure_(
          BuildCounter()
              .Name("ballast_cgroup_pressure_stall_seconds_total")
              .Help("PSI stall time of a cgroup (the kernel's total), by resource and some/full; "
                    "rate() is the share of time stalled")
              .Register(*registry_)),
      cgroup_cpu_(BuildCounter()
                      .Name("ballast_cgroup_cpu_seconds_total")
                      .Help("CPU time of a cgroup (cpu.stat usage_usec)")
                      .Register(*registry_)),
      cgroup_memory_(
          BuildGauge()
              .Name("ballast_cgroup_memory_bytes")
              .Help(
                  "Memory charged to a cgroup (memory.current; where the memory controller is on)")
              .Register(*registry_)),
      cgroup_memory_events_(
          BuildCounter()
              .Name("ballast_cgroup_memory_events_total")
              .Help("memory.events of a cgroup: low, high, max, oom, oom_kill, ...")
              .Register(*registry_)),
      policy_setpoint_(
          BuildGauge()
              .Name("ballast_policy_setpoint")
              .Help("What a policy steers toward, in the unit of ballast_policy_measured: "
                    "senpai and wss_probe stall seconds per interval, pi_pressure and "
                    "cpu_backoff the stalled share of time (0..1), budget and memory_floor "
                    "bytes, cpu_weight and cpuset_spread a run-queue p99 in seconds")
              .Register(*registry_)),
      policy_measured_(
          BuildGauge()
              .Name("ballast_policy_measured")
              .Help("What a policy measured at its last step (unit: see ballast_policy_setpoint)")
              .Register(*registry_)),
      policy_output_(
          BuildGauge()
              .Name("ballast_policy_output_bytes")
              .Help("The limit or protection a policy holds (memory.high, memory.min), bytes")
              .Register(*registry_)),
      policy_cpu_setting_(
          BuildGauge()
              .Name("ballast_policy_cpu_setting")
              .Help("The CPU setting a policy holds: cpu_backoff the cpu.max quota in cores, "
                    "cpu_weight the cpu.weight, cpuset_spread the CPUs in cpuset.cpus (the "
                    "pool's when not spread)")
              .Register(*registry_)),
      policy_io_share_(BuildGauge()
                           .Name("ballast_policy_io_share")
                           .Help("The share of its IO io_limit lets a cgroup have: of the rates "
                                 "it had (io.max) or of its io.weight; 1 when not cut")
                           .Register(*registry_)),
      policy_level_(BuildGauge()
                        .Name("ballast_policy_level")
                        .Help("Budget ladder level: 0 ok, 1 trace, 2 throttle, 3 freeze, 4 kill")
                        .Register(*registry_)),
      policy_decisions_(
          BuildCounter()
              .Name("ballast_policy_decisions_total")
              .Help("Decisions of policies by action (lower, raise, hold, level moves, ...)")
              .Register(*registry_)),
      policy_refusals_(
          BuildCounter()
              .Name("ballast_policy_refusals_total")
              .Help("Actions a policy declined, by reason (not_reclaimable: no swap and "
                    "mostly anonymous memory)")
              .Register(*registry_)),
      wss_estimate_(
          BuildGauge()
              .Name("ballast_wss_estimate_bytes")
              .Help("Working set estimated by wss_probe: the lowest memory.high that held "
                    "without memory pressure")
              .Register(*registry_)),
      system_pressure_(
          BuildCounter()
              .Name("ballast_system_pressure_stall_seconds_total")
              .Help("System-wide PSI stall time (/proc/pressure), by resource and some/full; "
                    "rate() is the share of time stalled")
              .Register(*registry_)),
      sched_(std::make_unique<sched_metrics>(*registry_)),
      gpu_(std::make_unique<gpu_metrics>(*registry_)),
      jobs_(std::make_unique<job_metrics>(*registry_)) {
  for (auto k : {event_kind::cgroup_mkdir, event_kind::cgroup_rmdir, event_kind::attach,
                 event_kind::exec, event_kind::exit})
    events_by_kind_[size_t(k)] = &events_.Add({{"kind", to_string(k)}});
  for (size_t i = 0; i < actor_type_names.size(); ++i)
    actors_by_type_[i] = &actors_.Add({{"type", actor_type_names[i]}});
  for (auto r :
       {restore_reason::policy_ended, restore_reason::policy_failed, restore_reason::released,
        restore_reason::shutdown, restore_reason::journal, restore_reason::actor_failed})
    restores_by_reason_[size_t(r)] = &knob_restores_.Add({{"reason", to_string(r)}});
  reloads_.Add({{"result", "ok"}});
  reloads_.Add({{"result", "refused"}});
  BuildGauge()
      .Name("ballast_build_info")
      .Help("Version of the agent and what it was built with")
      .Register(*registry_)
      .Add({{"version", BALLAST_VERSION}, {"caf", caf_version()}, {"kernel", kernel_release()}})
      .Set(1);
}

void agent_metrics::event_seen(event_kind k) {
  events_by_kind_[size_t(k)]->Increment();
}
void agent_metrics::events_lost_total(uint64_t total) {
  if (total > lost_seen_)
    events_lost_.Increment(double(total - lost_seen_));
  lost_seen_ = total;
}
void agent_metrics::actor_started(actor_type t) {
  actors_by_type_[size_t(t)]->Increment();
}
void agent_metrics::actor_stopped(actor_type t) {
  actors_by_type_[size_t(t)]->Decrement();
}
void agent_metrics::actor_restarted(actor_type t) {
  actor_restarts_.Add({{"type", actor_type_names[size_t(t)]}}).Increment();
}
void agent_metrics::policy_parked(const std::string &policy, double delta) {
  policies_parked_.Add({{"policy", policy}}).Increment(delta);
}
void agent_metrics::policy_decision(const std::string &policy, const std::string &action) {
  policy_decisions_.Add({{"policy", policy}, {"action", action}}).Increment();
}
void agent_metrics::policy_refused(const std::string &policy, const std::string &reason) {
  policy_refusals_.Add({{"policy", policy}, {"reason", reason}}).Increment();
}

prometheus::Gauge &agent_metrics::policy_actors(const std::string &p) {
  return policy_actors_.Add({{"policy", p}});
}
void agent_metrics::event_handled(uint64_t ktime_ns) {
  event_handling_.Observe(seconds_since(ktime_ns));
}
void agent_metrics::policy_running(uint64_t ktime_ns) {
  policy_start_.Observe(seconds_since(ktime_ns));
}
void agent_metrics::knob_written(bool dry_run) {
  (dry_run ? writes_dry_run_ : writes_done_).Increment();
}
void agent_metrics::knob_write_failed() {
  writes_failed_.Increment();
}
void agent_metrics::knob_restored(restore_reason r) {
  restores_by_reason_[size_t(r)]->Increment();
}
void agent_metrics::claims_changed(const std::string &knob, double delta) {
  claims_.Add({{"knob", knob}}).Increment(delta);
}
void agent_metrics::knob_restore_failed() {
  restores_failed_.Increment();
}
void agent_metrics::source_restarted() {
  source_restarts_.Increment();
}
void agent_metrics::unwatched_event() {
  unwatched_events_.Increment();
}
void agent_metrics::proc_read_failed() {
  proc_read_errors_.Increment();
}
void agent_metrics::journal_error() {
  journal_errors_.Increment();
}
void agent_metrics::rescan() {
  rescans_.Increment();
}
void agent_metrics::ready() {
  ready_.Set(1);
}
void agent_metrics::config_reload(bool ok) {
  reloads_.Add({{"result", ok ? "ok" : "refused"}}).Increment();
}

} // namespace ballast
