// budget policy (per cgroup): holds a cgroup to a memory budget with a ladder
// of responses (see budget_ladder.hpp): trace (log + metric), throttle
// (memory.high), freeze (cgroup.freeze), kill (cgroup.kill, or only the
// largest process). Thresholds come from params, or from a budget file that
// is re-read when it changes (a broken file is logged and the last good
// budgets stay). Honours dry-run through the cgroup actor.
//   params: trace, throttle, freeze, kill (sizes, null = rung off),
//           throttle_high (memory.high while throttled; default: the throttle
//           threshold), hysteresis, cooldown, kill_mode ("cgroup" or
//           "largest"), priority (default 100), file.
//   file:   {"budgets": [{"cgroups": ["/glob"], "trace": "1G", ...}, ...]};
//           the first entry whose glob matches the cgroup applies.
#pragma once

#include "actors/policies/policy.hpp"

namespace ballast {

std::vector<config::config_error> check_budget_params(const std::string& params,
                                                      const std::string& path);

policy_actor spawn_budget(caf::actor_system& sys, const config::policy& cfg,
                          const policy_target& target, const policy_env& env);

} // namespace ballast
