// See gpu_metrics.hpp.
#include "actors/metrics/gpu_metrics.hpp"

namespace ballast {

using namespace prometheus;

gpu_metrics::gpu_metrics(Registry &r)
    : engine(BuildCounter()
                 .Name("ballast_gpu_engine_seconds_total")
                 .Help("Busy time of each GPU engine summed over its clients (DRM fdinfo), "
                       "since the GPU source started")
                 .Register(r)),
      memory(BuildGauge()
                 .Name("ballast_gpu_memory_bytes")
                 .Help("GPU memory resident in each region, summed over its clients")
                 .Register(r)),
      clients(BuildGauge()
                  .Name("ballast_gpu_clients")
                  .Help("Open GPU clients (DRM files) the GPU source reads")
                  .Register(r)
                  .Add({})),
      cgroup_engine(BuildCounter()
                        .Name("ballast_cgroup_gpu_engine_seconds_total")
                        .Help("Busy time of each GPU engine for the cgroup's clients")
                        .Register(r)),
      cgroup_memory(BuildGauge()
                        .Name("ballast_cgroup_gpu_memory_bytes")
                        .Help("GPU memory resident in each region for the cgroup's clients")
                        .Register(r)) {}
} // namespace ballast
