// pi_pressure policy (per cgroup): a PI controller holding the cgroup's
// memory pressure (share of time with "some" stall) at a setpoint by moving
// memory.high. See pi_controller.hpp for the law, anti-windup, deadband and
// rate limit.
//   params: setpoint (% of time, default 1), kp, ki, deadband (%),
//           max_step_down, max_step_up, and the memory_limit_params.
#pragma once

#include "actors/policies/policy.hpp"

namespace ballast {

std::vector<config::config_error> check_pi_pressure_params(const std::string& params,
                                                           const std::string& path);

policy_actor spawn_pi_pressure(caf::actor_system& sys, const config::policy& cfg,
                               const policy_target& target, const policy_env& env);

} // namespace ballast
