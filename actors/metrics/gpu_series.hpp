// The series of one gpu_sample's figures (engine time counters, memory
// gauges) in a pair of gpu_metrics families: the host's or the cgroups'.
#pragma once

#include "actors/metrics/kernel_counter.hpp"
#include "messages/samples.hpp"

#include <map>
#include <string>
#include <utility>

namespace ballast {

// The series of one gpu_sample's figures under base labels ({} for the
// host, {cgroup} for a cgroup); removed by remove(). Without metrics (a
// cgroup the cap left out) it exports nothing. Not thread-safe.
class gpu_series {
public:
  void update(agent_metrics *metrics, prometheus::Family<prometheus::Counter> &engine,
              prometheus::Family<prometheus::Gauge> &memory, const prometheus::Labels &base,
              const gpu_sample &s);
  void remove(agent_metrics &metrics, prometheus::Family<prometheus::Counter> &engine,
              prometheus::Family<prometheus::Gauge> &memory);

private:
  using key = std::pair<std::string, std::string>;
  uint64_t origin_ns_ = 0;
  std::map<key, kernel_counter> engines_;
  std::map<key, prometheus::Gauge *> memory_;
};

} // namespace ballast
