// The sched source's metrics: host-wide wait histograms and per-CPU busy
// time (the source updates them), and the per-cgroup families the cgroup
// probes add series to (on-CPU time, wait quantiles) for the cgroups the
// registry's cardinality cap admits.
#pragma once

#include "actors/signals/log2_histogram.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace ballast {

class sched_metrics {
public:
  explicit sched_metrics(prometheus::Registry &registry);

  // Host-wide, from every cgroup's interval histograms.
  prometheus::Histogram &runq_delay;
  prometheus::Histogram &futex_wait;
  prometheus::Histogram &io_latency;
  prometheus::Family<prometheus::Counter> &cpu_busy; // {cpu}
  prometheus::Gauge &frequency_weighted;             // 1 when weighted by cpufreq

  // Per cgroup: {cgroup, scale="raw"|"frequency"} and {cgroup, quantile}.
  prometheus::Family<prometheus::Counter> &cgroup_oncpu;
  prometheus::Family<prometheus::Gauge> &cgroup_runq;
  prometheus::Family<prometheus::Gauge> &cgroup_futex;
  prometheus::Family<prometheus::Gauge> &cgroup_io;

  // The cardinality cap: cgroups with per-cgroup series, and those refused.
  prometheus::Gauge &series_cgroups;
  prometheus::Counter &series_left_out;
};

// Adds an interval's log2 histogram of nanoseconds to a histogram of
// seconds made with log2_buckets() (every slot falls wholly in one bucket).
void observe_log2(prometheus::Histogram &h, const log2_histogram &ns);
const prometheus::Histogram::BucketBoundaries &log2_buckets();

} // namespace ballast
