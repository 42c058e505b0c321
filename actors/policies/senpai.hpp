// senpai policy (per cgroup): keeps memory.high just above what the workload
// needs, after Meta's senpai: each interval, lower the limit while memory
// stall stays below a small target, back off when it goes over. See
// senpai_controller.hpp for the control law.
//   params: stall_target ("10ms" per interval), coeff_probe, max_probe,
//           coeff_backoff, max_backoff, and the memory_limit_params.
#pragma once

#include "actors/policies/policy.hpp"

namespace ballast {

std::vector<config::config_error> check_senpai_params(const std::string& params,
                                                      const std::string& path);

policy_actor spawn_senpai(caf::actor_system& sys, const config::policy& cfg,
                          const policy_target& target, const policy_env& env);

} // namespace ballast
