// One job: the actor that watches its shim (by pidfd), reads its end and
// log from the job's directory, and signals, freezes and removes it. See
// job_actor in messages/protocol.hpp.
#pragma once

#include "actors/jobs/job_dir.hpp"
#include "actors/metrics/agent_metrics.hpp"
#include "actors/sources/fd_watch.hpp"
#include "actors/sources/psi_triggers.hpp"
#include "messages/protocol.hpp"

#include <memory>
#include <string>

namespace ballast {

// What every job actor shares.
struct jobs_context {
  std::string cgroup_root;
  std::string proc_root;
  std::shared_ptr<fd_watch> exits;        // each job's shim pidfd, each pre-kill hook's
  std::shared_ptr<psi_triggers> triggers; // for the response; null where none run
  supervisor_actor supervisor;            // the registry, for claims on the job's cgroup
  std::shared_ptr<agent_metrics> metrics;
};

// A job whose shim runs (pidfd >= 0, the actor owns it) or has ended.
// `child` when this agent started the shim (so it can reap it and read how
// it died).
job_actor spawn_job(caf::actor_system &sys, std::shared_ptr<const jobs_context> ctx,
                    std::string dir, jobs::job_record record, int pidfd, bool child);

} // namespace ballast
