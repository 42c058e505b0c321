// The jobs' host-wide response to pressure: every jobs.response.interval
// (and at once when a PSI trigger armed on the job root fires) it reads the
// host's pressure (/proc/pressure: the share of the time since its last
// step stalled), asks the job supervisor for every job, lets the law
// (actors/laws/job_response.hpp) choose, and sends each action to the job's
// actor as a job_command with the rule and the reason. The job actors hold
// the claims (cgroup.freeze, cpu.weight), so the journal restores them like
// every knob. A kill first runs jobs.response.kill_hook, if any, and waits
// for it to end or for kill_hook_time.
#pragma once

#include "actors/jobs/job_actor.hpp"

namespace ballast {

// The response of the job supervisor `jobs` (linked to it).
job_response_actor spawn_job_response(caf::actor_system &sys,
                                      std::shared_ptr<const jobs_context> ctx,
                                      job_supervisor_actor jobs, config::agent cfg);

} // namespace ballast
