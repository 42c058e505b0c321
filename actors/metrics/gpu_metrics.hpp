// The GPU source's metrics: host-wide engine time, memory and clients (the
// source updates them), and the per-cgroup families the cgroup probes add
// series to for the cgroups the registry's cardinality cap admits
// (through gpu_series).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace ballast {

class gpu_metrics {
public:
  explicit gpu_metrics(prometheus::Registry &registry);

  prometheus::Family<prometheus::Counter> &engine;        // {device, engine}
  prometheus::Family<prometheus::Gauge> &memory;          // {device, region}
  prometheus::Gauge &clients;                             // open DRM clients
  prometheus::Family<prometheus::Counter> &cgroup_engine; // {cgroup, device, engine}
  prometheus::Family<prometheus::Gauge> &cgroup_memory;   // {cgroup, device, region}
};

} // namespace ballast
