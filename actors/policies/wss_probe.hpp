// wss_probe policy (per process, acting on its cgroup): estimates the
// working set by stepping memory.high down from the cgroup's usage, one step
// per interval, until memory pressure appears (see wss_search.hpp). The
// estimate is exported as ballast_wss_estimate_bytes, then memory.high is
// released (the claims ledger puts it back). With `repeat` the probe runs
// again after that long.
//   params: step (share, default 0.05), stall_threshold ("5ms" per interval),
//           floor ("16M"), repeat ("0s" = once), priority.
#pragma once

#include "actors/policies/policy.hpp"

namespace ballast {

std::vector<config::config_error> check_wss_probe_params(const std::string& params,
                                                         const std::string& path);

policy_actor spawn_wss_probe(caf::actor_system& sys, const config::policy& cfg,
                             const policy_target& target, const policy_env& env);

} // namespace ballast
