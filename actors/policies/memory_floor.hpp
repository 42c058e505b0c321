// memory_floor policy (group): protects a group of cgroups — a service's, or
// a user's slices — with a memory floor. The configured floor is split
// evenly over the group's member cgroups (the watched cgroups its "cgroups"
// globs select) as memory.min, and split again whenever a member comes or
// goes. memory.min only protects within what the parent is given: select
// siblings whose parent is the root or is itself protected.
//   params: floor (size, required), priority.
#pragma once

#include "actors/policies/policy.hpp"

namespace ballast {

std::vector<config::config_error> check_memory_floor_params(const std::string& params,
                                                            const std::string& path);

group_policy_actor spawn_memory_floor(caf::actor_system& sys, const config::policy& cfg,
                                      std::shared_ptr<agent_metrics> metrics);

} // namespace ballast
