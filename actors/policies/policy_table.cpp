// The policy table: every policy type, its summary and how it is spawned.
#include "actors/policies/policy.hpp"

#include "actors/policies/telemetry.hpp"

namespace ballast {

const std::vector<policy_type>& policy_table() {
  static const std::vector<policy_type> table = {
    {"telemetry",
     "per-process CPU time and RSS, and the pressure of its cgroup, exported to Prometheus",
     check_telemetry_params, spawn_telemetry},
  };
  return table;
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

namespace {

config::parse_result check_params(config::parse_result r) {
  if (!r.value)
    return r;
  for (size_t i = 0; i < r.value->policies.size(); ++i) {
    auto& p = r.value->policies[i];
    auto errs = find_policy_type(p.type)->check_params(
      p.params, "policies[" + std::to_string(i) + "].params");
    r.errors.insert(r.errors.end(), errs.begin(), errs.end());
  }
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
