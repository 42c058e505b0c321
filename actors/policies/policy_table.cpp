// The policy table: every policy type, and the check that compiles a config's policies.
#include "actors/policies/policy.hpp"

namespace ballast {

// Each row is defined in its policy's own file, actors/policies/<name>.cpp.
extern const policy_type telemetry_policy, senpai_policy, pi_pressure_policy, wss_probe_policy,
    budget_policy, memory_floor_policy, cpu_backoff_policy, cpu_weight_policy, cpuset_spread_policy,
    rules_policy, io_limit_policy;

const std::vector<const policy_type *> &policy_table() {
  static const std::vector<const policy_type *> table = {
      &telemetry_policy,     &senpai_policy,       &pi_pressure_policy, &wss_probe_policy,
      &budget_policy,        &memory_floor_policy, &cpu_backoff_policy, &cpu_weight_policy,
      &cpuset_spread_policy, &rules_policy,        &io_limit_policy,
  };
  return table;
}

const char *to_string(policy_scope s) {
  switch (s) {
  case policy_scope::process:
    return "process";
  case policy_scope::cgroup:
    return "cgroup";
  case policy_scope::group:
    return "group";
  }
  return "?";
}

const policy_type *find_policy_type(std::string_view name) {
  for (auto *t : policy_table())
    if (t->name == name)
      return t;
  return nullptr;
}

std::vector<std::string> policy_type_names() {
  std::vector<std::string> out;
  for (auto *t : policy_table())
    out.emplace_back(t->name);
  return out;
}

std::vector<config::config_error> compile_policy(config::policy &p, const std::string &path) {
  auto type = find_policy_type(p.type);
  if (!type)
    return {{path + ".type", "unknown policy type \"" + p.type + "\""}};
  auto c = type->compile(p, path + ".params");
  p.settings.value = std::move(c.settings);
  // A policy on whole cgroups is chosen by cgroup alone.
  if (type->scope != policy_scope::process &&
      (!p.select.comm.empty() || !p.select.exe.empty() || !p.select.uids.empty()))
    c.errors.push_back({path + ".select", std::string("a ") + p.type +
                                              " policy acts on whole cgroups: "
                                              "select it by \"cgroups\" only"});
  return std::move(c.errors);
}

std::vector<config::config_error> compile_policies(config::agent &a) {
  std::vector<config::config_error> errors;
  for (size_t i = 0; i < a.policies.size(); ++i) {
    auto errs = compile_policy(a.policies[i], "policies[" + std::to_string(i) + "]");
    errors.insert(errors.end(), errs.begin(), errs.end());
  }
  return errors;
}

namespace {

config::parse_result check_params(config::parse_result r) {
  if (!r.value)
    return r;
  r.errors = compile_policies(*r.value);
  if (!r.errors.empty())
    r.value.reset();
  return r;
}

} // namespace

config::parse_result check_config(std::string_view json_text) {
  return check_params(config::parse(json_text, policy_type_names()));
}

config::parse_result check_config_file(const std::string &file) {
  return check_params(config::parse_file(file, policy_type_names()));
}

} // namespace ballast
