// See sched_metrics.hpp.
#include "actors/metrics/sched_metrics.hpp"

#include <cmath>

namespace ballast {

using namespace prometheus;

namespace {

// Bucket j ends at 2^(first_slot + 2j) ns: 1.02 µs, 4.1 µs, ... 1.07 s.
constexpr int first_slot = 10, slot_step = 2, buckets = 11;

Histogram &host_histogram(Registry &r, const char *name, const char *help) {
  return BuildHistogram().Name(name).Help(help).Register(r).Add({}, log2_buckets());
}

} // namespace

const Histogram::BucketBoundaries &log2_buckets() {
  static const Histogram::BucketBoundaries bounds = [] {
    Histogram::BucketBoundaries b;
    for (int j = 0; j < buckets; ++j)
      b.push_back(std::ldexp(1.0, first_slot + slot_step * j) / 1e9);
    return b;
  }();
  return bounds;
}

void observe_log2(Histogram &h, const log2_histogram &ns) {
  std::vector<double> increments(buckets + 1, 0.0);
  double sum = 0;
  for (size_t i = 0; i < log2_histogram::slots; ++i) {
    auto n = ns.counts()[i];
    if (!n)
      continue;
    // Slot i is [2^i, 2^(i+1)): in the first bucket whose bound is >= 2^(i+1).
    int above = int(i) + 1 - first_slot;
    int j = above <= 0 ? 0 : (above + slot_step - 1) / slot_step;
    increments[size_t(std::min(j, buckets))] += double(n);
    sum += double(n) * std::ldexp(1.5, int(i)) / 1e9; // the slot's middle
  }
  if (sum > 0)
    h.ObserveMultiple(increments, sum);
}

sched_metrics::sched_metrics(Registry &r)
    : runq_delay(host_histogram(r, "ballast_runq_delay_seconds",
                                "Run-queue delay of every task (wakeup or preemption to on-CPU), "
                                "from the sched source")),
      futex_wait(
          host_histogram(r, "ballast_futex_wait_seconds",
                         "Time asleep in futex wait syscalls, every task, from the sched source")),
      io_latency(host_histogram(r, "ballast_io_latency_seconds",
                                "Block request latency (issue to complete), every device")),
      cpu_busy(BuildCounter()
                   .Name("ballast_cpu_busy_seconds_total")
                   .Help("Non-idle time of each CPU, from sched_switch")
                   .Register(r)),
      frequency_weighted(BuildGauge()
                             .Name("ballast_sched_frequency_weighted")
                             .Help("1 when weighted on-CPU time is scaled by cur/max CPU "
                                   "frequency (cpufreq); 0 when it equals the raw time")
                             .Register(r)
                             .Add({})),
      cgroup_oncpu(
          BuildCounter()
              .Name("ballast_cgroup_oncpu_seconds_total")
              .Help("On-CPU time of the cgroup's tasks by the scheduler's clock (as cpu.stat); "
                    "scale=frequency is weighted by cur/max CPU frequency")
              .Register(r)),
      cgroup_runq(BuildGauge()
                      .Name("ballast_cgroup_runq_delay_seconds")
                      .Help("Run-queue delay quantiles of the cgroup's tasks over the last "
                            "interval (0 when none waited)")
                      .Register(r)),
      cgroup_futex(BuildGauge()
                       .Name("ballast_cgroup_futex_wait_seconds")
                       .Help("Futex wait quantiles of the cgroup's tasks over the last interval")
                       .Register(r)),
      cgroup_io(BuildGauge()
                    .Name("ballast_cgroup_io_latency_seconds")
                    .Help("Block IO latency quantiles of the cgroup's requests over the last "
                          "interval")
                    .Register(r)),
      series_cgroups(BuildGauge()
                         .Name("ballast_cgroup_series_cgroups")
                         .Help("Watched cgroups that have per-cgroup series (metrics.cgroups, "
                               "metrics.max_cgroups)")
                         .Register(r)
                         .Add({})),
      series_left_out(BuildCounter()
                          .Name("ballast_cgroup_series_left_out_total")
                          .Help("Watched cgroups given no per-cgroup series because "
                                "metrics.max_cgroups was reached")
                          .Register(r)
                          .Add({})) {}

} // namespace ballast
