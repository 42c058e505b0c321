// See job_metrics.hpp.
#include "actors/metrics/job_metrics.hpp"

namespace ballast {

using namespace prometheus;

job_metrics::job_metrics(Registry &r)
    : memory(BuildGauge()
                 .Name("ballast_job_memory_bytes")
                 .Help("memory.current of each job's cgroup (0 without the memory controller)")
                 .Register(r)),
      cpu(BuildCounter()
              .Name("ballast_job_cpu_seconds_total")
              .Help("CPU time of each job's cgroup (cpu.stat usage_usec)")
              .Register(r)),
      jobs_(BuildGauge()
                .Name("ballast_jobs")
                .Help("Jobs the agent knows (not removed), by state")
                .Register(r)),
      starts_(BuildCounter()
                  .Name("ballast_job_starts_total")
                  .Help("Jobs started (ballastctl run)")
                  .Register(r)
                  .Add({})),
      refusals_(BuildCounter()
                    .Name("ballast_job_refusals_total")
                    .Help("Job requests refused: by the pressure that refused them, or "
                          "\"request\" for a bad request")
                    .Register(r)),
      actions_(
          BuildCounter()
              .Name("ballast_job_actions_total")
              .Help("Commands carried out on jobs, by kind and by who asked: operator or response")
              .Register(r)) {
  for (auto s : {"running", "exited", "killed", "failed", "lost"})
    jobs_.Add({{"state", s}});
}

void job_metrics::state_changed(const std::string &from, const std::string &to) {
  if (!from.empty())
    jobs_.Add({{"state", from}}).Decrement();
  if (!to.empty())
    jobs_.Add({{"state", to}}).Increment();
}

} // namespace ballast
