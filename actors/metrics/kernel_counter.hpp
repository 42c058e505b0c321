// A Prometheus counter that mirrors a cumulative count the kernel keeps (PSI
// stall totals, cpu.stat usage, memory.events): the first sample adds the
// whole total, later ones the growth, so rate() is exact however seldom it
// is sampled. The series is added on the first sample (its owner removes
// it with agent_metrics::remove_series); without metrics (a cgroup the
// cardinality cap left out) only the growth is counted.
#pragma once

#include "actors/metrics/agent_metrics.hpp"

#include <cstdint>

namespace ballast {

struct kernel_counter {
  prometheus::Counter *series = nullptr;
  uint64_t seen = 0;

  // Returns how much the kernel's count grew since the last sample.
  uint64_t advance(agent_metrics *metrics, prometheus::Family<prometheus::Counter> &family,
                   const prometheus::Labels &labels, uint64_t total, double unit) {
    if (!series && metrics)
      series = &metrics->add_series(family, labels);
    uint64_t grown = total > seen ? total - seen : 0;
    if (grown && series)
      series->Increment(double(grown) * unit);
    seen = total;
    return grown;
  }
};

} // namespace ballast
