// Every metric the agent exports, built once in one prometheus-cpp registry
// and shared by the actors (prometheus-cpp metrics are thread-safe). Names
// follow one rule: ballast_ prefix, base units, bounded labels; series
// labelled by cgroup or pid are removed when that cgroup or process goes.
#pragma once

#include "actors/metrics/gpu_metrics.hpp"
#include "actors/metrics/job_metrics.hpp"
#include "actors/metrics/sched_metrics.hpp"
#include "messages/events.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ballast {

enum class actor_type { supervisor, source, registry, cgroup, policy };

// Why a knob went back: label values of ballast_knob_restores_total{reason}.
enum class restore_reason {
  policy_ended,
  policy_failed,
  released,
  shutdown,
  journal,
  actor_failed
};

const char *to_string(restore_reason r);

class agent_metrics {
public:
  agent_metrics();

  prometheus::Registry &registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }

  void event_seen(event_kind k);
  void events_lost_total(uint64_t total); // mirrors the kernel counter
  void actor_started(actor_type t);
  void actor_stopped(actor_type t);
  // ballast_actor_restarts_total{type}: actors that failed and were started again.
  void actor_restarted(actor_type t);
  // ballast_policies_parked{policy}: policy actors that failed too often in a
  // row and are not restarted (until the config changes or the process goes).
  void policy_parked(const std::string &policy, double delta);
  // The live-actor gauge of one configured policy; callers keep the
  // reference (the series is never removed: policies are few).
  prometheus::Gauge &policy_actors(const std::string &policy);
  // Seconds from the kernel timestamp of an event to now (CLOCK_MONOTONIC).
  void event_handled(uint64_t ktime_ns);
  void policy_running(uint64_t ktime_ns);
  void knob_written(bool dry_run);
  void knob_write_failed();
  void knob_restored(restore_reason r);
  // Standing claims on a knob (all cgroups), moved by delta.
  void claims_changed(const std::string &knob, double delta);
  void knob_restore_failed();
  void source_restarted();
  void unwatched_event();
  void proc_read_failed();
  void journal_error();
  void rescan();
  // ballast_ready: 0 until the start-up scan has handed every cgroup and
  // process to its actor, then 1.
  void ready();
  void config_reload(bool ok);
  // ballast_policy_decisions_total{policy,action}, ..._refusals_total{policy,reason}.
  void policy_decision(const std::string &policy, const std::string &action);
  void policy_refused(const std::string &policy, const std::string &reason);

  // Adds a series its owner takes away with remove_series. prometheus-cpp
  // hands out one object per label set, so two owners of the same labels
  // (a policy started afresh while its predecessor is still ending) share
  // it: it is counted, and removed with the last of them, not the first.
  template <class T>
  T &add_series(prometheus::Family<T> &family, const prometheus::Labels &labels) {
    std::lock_guard guard{series_mutex_};
    T &series = family.Add(labels);
    ++series_owners_[&series];
    return series;
  }

  // Drops one owner of a series from add_series; the last one removes it,
  // unless the agent is stopping: the process exit takes every series then,
  // and prometheus-cpp's Remove is a linear search, so thousands of actors
  // each removing theirs would cost O(series^2) and overrun the shutdown
  // deadline.
  template <class T> void remove_series(prometheus::Family<T> &family, T *series) {
    if (!series || stopping_.load(std::memory_order_relaxed))
      return;
    std::lock_guard guard{series_mutex_};
    auto owner = series_owners_.find(series);
    if (owner != series_owners_.end() && --owner->second > 0)
      return;
    if (owner != series_owners_.end())
      series_owners_.erase(owner);
    family.Remove(series);
  }
  void stopping() { stopping_ = true; }

  // Telemetry series; their owners remove them with remove_series.
  prometheus::Family<prometheus::Counter> &process_cpu() { return process_cpu_; }
  prometheus::Family<prometheus::Gauge> &process_rss() { return process_rss_; }
  prometheus::Family<prometheus::Counter> &cgroup_pressure() { return cgroup_pressure_; }
  prometheus::Family<prometheus::Counter> &cgroup_cpu() { return cgroup_cpu_; }
  prometheus::Family<prometheus::Gauge> &cgroup_memory() { return cgroup_memory_; }
  prometheus::Family<prometheus::Counter> &cgroup_memory_events() { return cgroup_memory_events_; }
  // Controller state of policies, labelled {policy, cgroup}; see policy_series.
  prometheus::Family<prometheus::Gauge> &policy_setpoint() { return policy_setpoint_; }
  prometheus::Family<prometheus::Gauge> &policy_measured() { return policy_measured_; }
  prometheus::Family<prometheus::Gauge> &policy_output() { return policy_output_; }
  prometheus::Family<prometheus::Gauge> &policy_cpu_setting() { return policy_cpu_setting_; }
  prometheus::Family<prometheus::Gauge> &policy_io_share() { return policy_io_share_; }
  prometheus::Family<prometheus::Gauge> &policy_level() { return policy_level_; }
  prometheus::Family<prometheus::Gauge> &wss_estimate() { return wss_estimate_; }
  prometheus::Family<prometheus::Counter> &system_pressure() { return system_pressure_; }
  sched_metrics &sched() { return *sched_; }
  gpu_metrics &gpu() { return *gpu_; }
  job_metrics &jobs() { return *jobs_; }

private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter> &events_;
  std::array<prometheus::Counter *, 6> events_by_kind_{};
  prometheus::Counter &events_lost_;
  uint64_t lost_seen_ = 0; // only the registry reports losses
  std::atomic<bool> stopping_{false};
  std::mutex series_mutex_; // add_series/remove_series: counting and Add/Remove as one step
  std::unordered_map<const void *, size_t> series_owners_;
  prometheus::Family<prometheus::Gauge> &actors_;
  std::array<prometheus::Gauge *, 5> actors_by_type_{};
  prometheus::Family<prometheus::Gauge> &policy_actors_;
  prometheus::Histogram &event_handling_;
  prometheus::Histogram &policy_start_;
  prometheus::Family<prometheus::Counter> &knob_writes_;
  prometheus::Counter &writes_done_;
  prometheus::Counter &writes_dry_run_;
  prometheus::Counter &writes_failed_;
  prometheus::Family<prometheus::Gauge> &claims_;
  prometheus::Family<prometheus::Counter> &knob_restores_;
  std::array<prometheus::Counter *, 6> restores_by_reason_{};
  prometheus::Family<prometheus::Counter> &actor_restarts_;
  prometheus::Family<prometheus::Gauge> &policies_parked_;
  prometheus::Counter &restores_failed_;
  prometheus::Counter &source_restarts_;
  prometheus::Counter &unwatched_events_;
  prometheus::Counter &proc_read_errors_;
  prometheus::Counter &journal_errors_;
  prometheus::Counter &rescans_;
  prometheus::Gauge &ready_;
  prometheus::Family<prometheus::Counter> &reloads_;
  prometheus::Family<prometheus::Counter> &process_cpu_;
  prometheus::Family<prometheus::Gauge> &process_rss_;
  prometheus::Family<prometheus::Counter> &cgroup_pressure_;
  prometheus::Family<prometheus::Counter> &cgroup_cpu_;
  prometheus::Family<prometheus::Gauge> &cgroup_memory_;
  prometheus::Family<prometheus::Counter> &cgroup_memory_events_;
  prometheus::Family<prometheus::Gauge> &policy_setpoint_;
  prometheus::Family<prometheus::Gauge> &policy_measured_;
  prometheus::Family<prometheus::Gauge> &policy_output_;
  prometheus::Family<prometheus::Gauge> &policy_cpu_setting_;
  prometheus::Family<prometheus::Gauge> &policy_io_share_;
  prometheus::Family<prometheus::Gauge> &policy_level_;
  prometheus::Family<prometheus::Counter> &policy_decisions_;
  prometheus::Family<prometheus::Counter> &policy_refusals_;
  prometheus::Family<prometheus::Gauge> &wss_estimate_;
  prometheus::Family<prometheus::Counter> &system_pressure_;
  std::unique_ptr<sched_metrics> sched_;
  std::unique_ptr<gpu_metrics> gpu_;
  std::unique_ptr<job_metrics> jobs_;
};

// Seconds between a CLOCK_MONOTONIC nanosecond timestamp and now.
double seconds_since(uint64_t ktime_ns);
uint64_t monotonic_ns();

} // namespace ballast
