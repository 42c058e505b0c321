// A Prometheus counter that mirrors a cumulative count the kernel keeps (PSI
// stall totals, cpu.stat usage, memory.events): the first sample adds the
// whole total, later ones the growth, so rate() is exact however seldom it
// is sampled. The series is added on the first sample (its owner removes
// it with agent_metrics::remove_series); without metrics (a cgroup the
// cardinality cap left out) only the growth is counted. A total below the
// last one is held at the last (a count read in two parts may dip for a
// moment; counting its regrowth again would count it twice): a count that
// starts over calls restart() first.
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
    if (total <= seen)
      return 0;
    uint64_t grown = total - seen;
    if (series)
      series->Increment(double(grown) * unit);
    seen = total;
    return grown;
  }

  // The kernel's count starts again from zero (its source was reloaded).
  void restart() { seen = 0; }
};

} // namespace ballast
