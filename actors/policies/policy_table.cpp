// The policy table: every policy type, its summary and how it is spawned.
#include "actors/policies/policy.hpp"

#include "actors/policies/budget.hpp"
#include "actors/policies/memory_floor.hpp"
#include "actors/policies/pi_pressure.hpp"
#include "actors/policies/senpai.hpp"
#include "actors/policies/telemetry.hpp"
#include "actors/policies/wss_probe.hpp"

namespace ballast {

const std::vector<policy_type>& policy_table() {
  static const std::vector<policy_type> table = {
    {"telemetry",
     "per-process CPU time and RSS, and the pressure of its cgroup, exported to Prometheus",
     policy_scope::process, check_telemetry_params, spawn_telemetry},
    {"senpai", "memory.high just above what the cgroup needs: probe down while memory stall "
               "stays under a small target, back off above it (after Meta's senpai)",
     policy_scope::cgroup, check_senpai_params, spawn_senpai},
    {"pi_pressure", "memory.high steered by a PI controller holding the cgroup's memory "
                    "pressure at a setpoint",
     policy_scope::cgroup, check_pi_pressure_params, spawn_pi_pressure},
    {"wss_probe", "estimates a process's working set by lowering its cgroup's memory.high "
                  "until pressure appears, then releases it",
     policy_scope::process, check_wss_probe_params, spawn_wss_probe},
    {"budget", "a memory budget with a ladder: trace, throttle (memory.high), freeze, kill",
     policy_scope::cgroup, check_budget_params, spawn_budget},
    {"memory_floor", "a group's protected memory floor, split as memory.min over its cgroups",
     policy_scope::group, check_memory_floor_params, nullptr, spawn_memory_floor},
  };
  return table;
}

const char* to_string(policy_scope s) {
  switch (s) {
    case policy_scope::process: return "process";
    case policy_scope::cgroup: return "cgroup";
    case policy_scope::group: return "group";
  }
  return "?";
}

const policy_type* find_policy_type(std::string_view name) {
  for (auto& t : policy_table())
    if (t.name == name)
      return &t;
  return nullptr;
}

std::vector<std::string> policy_type_names() {
  std::vector<std::string> out;
  for (auto& t : policy_table())
    out.emplace_back(t.name);
  return out;
}

std::vector<config::config_error> check_policies(const config::agent& a) {
  std::vector<config::config_error> errors;
  for (size_t i = 0; i < a.policies.size(); ++i) {
    auto& p = a.policies[i];
    auto path = "policies[" + std::to_string(i) + "]";
    auto type = find_policy_type(p.type);
    if (!type) {
      errors.push_back({path + ".type", "unknown policy type \"" + p.type + "\""});
      continue;
    }
    auto errs = type->check_params(p.params, path + ".params");
    errors.insert(errors.end(), errs.begin(), errs.end());
    // A policy on whole cgroups is chosen by cgroup alone.
    if (type->scope != policy_scope::process &&
        (!p.select.comm.empty() || !p.select.exe.empty() || !p.select.uids.empty()))
      errors.push_back({path + ".select", std::string("a ") + p.type + " policy acts on whole cgroups: "
                                          "select it by \"cgroups\" only"});
  }
  return errors;
}

namespace {

config::parse_result check_params(config::parse_result r) {
  if (!r.value)
    return r;
  r.errors = check_policies(*r.value);
  if (!r.errors.empty())
    r.value.reset();
  return r;
}

} // namespace

config::parse_result check_config(std::string_view json_text) {
  return check_params(config::parse(json_text, policy_type_names()));
}

config::parse_result check_config_file(const std::string& file) {
  return check_params(config::parse_file(file, policy_type_names()));
}

} // namespace ballast
