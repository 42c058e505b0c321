// The job supervisor: checks a job request, admits it by host pressure (or
// queues it), creates its cgroup with its limits, starts the shim in it and
// spawns the job's actor; at its own start it takes back every job a
// previous agent left in jobs.dir. See job_supervisor_actor in
// messages/protocol.hpp.
#pragma once

#include "actors/jobs/job_actor.hpp"

namespace ballast {

struct job_supervisor_env {
  std::shared_ptr<const jobs_context> ctx;
  std::string shim; // path of ballast-job-shim
};

job_supervisor_actor spawn_job_supervisor(caf::actor_system &sys, job_supervisor_env env,
                                          config::agent cfg);

// ballast-job-shim beside the running executable.
std::string default_job_shim();

} // namespace ballast
