// telemetry: per-process CPU time and RSS, and the pressure of the process's
// cgroup, exported to Prometheus on every tick. It claims no knob. Its
// process series are removed when it ends (process exit, cgroup removal,
// unconfigured, agent stop); the cgroup actor removes the cgroup's pressure
// series when the cgroup goes.
#pragma once

#include "actors/policies/policy.hpp"

namespace ballast {

std::vector<config::config_error> check_telemetry_params(const std::string& params,
                                                         const std::string& path);

policy_actor spawn_telemetry(caf::actor_system& sys, const config::policy& cfg,
                             const policy_target& target, const policy_env& env);

} // namespace ballast
