// The contract between the cgroup actor and the policies: what a policy is
// told when it is spawned, and the one table that lists every policy type.
// Adding a policy is one .cpp in this folder that defines its row
// (`extern const policy_type <name>_policy`), its name in policy_table.cpp,
// and its file in actors/CMakeLists.txt.
#pragma once

#include "actors/metrics/agent_metrics.hpp"
#include "actors/policies/params.hpp"
#include "actors/probe/cgroup_probe.hpp"
#include "actors/sources/psi_triggers.hpp"
#include "config/config.hpp"
#include "messages/protocol.hpp"

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ballast {

// What one policy actor acts for: a matching process (and its cgroup), a
// whole cgroup, or a group of cgroups together.
enum class policy_scope { process, cgroup, group };

// "process", "cgroup", "group".
const char *to_string(policy_scope s);

// The process or cgroup a policy actor acts for (pid 0 for a cgroup scope).
struct policy_target {
  int32_t pid = 0;
  std::string comm;
  std::string cgroup_path; // relative to the cgroup2 root
  uint64_t cgroup_id = 0;
  uint64_t since_ktime_ns = 0; // the event that enrolled it (for latency)
};

// What every policy may use.
struct policy_env {
  std::string cgroup_root;
  std::string proc_root; // "/proc" unless a test injects another
  std::shared_ptr<agent_metrics> metrics;
  cgroup_actor cgroup;                    // where claims go: the only writer of the cgroup
  std::shared_ptr<cgroup_probe> probe;    // shared reads of the cgroup's files
  std::shared_ptr<psi_triggers> triggers; // null where the agent runs none
};

// A policy's params read by its type, once, when the config is checked:
// its settings, or the errors that refuse the config.
struct compiled_params {
  std::shared_ptr<const void> settings;
  std::vector<config::config_error> errors;
};

template <class Settings> compiled_params compiled(params_result<Settings> r) {
  if (!r.errors.empty())
    return {nullptr, std::move(r.errors)};
  return {std::make_shared<const Settings>(std::move(r.value)), {}};
}

// A type's compile where its params parser (text, path) decides alone.
template <auto Parse>
compiled_params compile_params(const config::policy &p, const std::string &path) {
  return compiled(Parse(p.params, path));
}

// A type's spawn: its behavior function, as the table calls it.
template <auto Behavior>
policy_actor spawn_policy(caf::actor_system &sys, const config::policy &cfg,
                          const policy_target &target, const policy_env &env);
template <auto Behavior>
group_policy_actor spawn_group_policy(caf::actor_system &sys, const config::policy &cfg,
                                      std::shared_ptr<agent_metrics> metrics);

// The settings its type's compile made of a checked policy's params.
template <class Settings> const Settings &settings_of(const config::policy &p) {
  return *static_cast<const Settings *>(p.settings.value.get());
}

struct policy_type {
  std::string_view name;
  std::string_view summary; // one line for --list-policies
  policy_scope scope;
  // Reads a policy's params (canonical JSON text) and interval into its
  // settings; errors name the field under `path` ("policies[0].params").
  compiled_params (*compile)(const config::policy &p, const std::string &path);
  // Scopes process and cgroup: spawned by the cgroup actor.
  policy_actor (*spawn)(caf::actor_system &sys, const config::policy &cfg,
                        const policy_target &target, const policy_env &env);
  // Scope group: spawned by the registry, which tells it the members.
  group_policy_actor (*spawn_group)(caf::actor_system &sys, const config::policy &cfg,
                                    std::shared_ptr<agent_metrics> metrics) = nullptr;
};

template <auto Behavior>
policy_actor spawn_policy(caf::actor_system &sys, const config::policy &cfg,
                          const policy_target &target, const policy_env &env) {
  return sys.spawn(Behavior, cfg, target, env);
}

template <auto Behavior>
group_policy_actor spawn_group_policy(caf::actor_system &sys, const config::policy &cfg,
                                      std::shared_ptr<agent_metrics> metrics) {
  return sys.spawn(Behavior, cfg, std::move(metrics));
}

// The first tick time after `now` on a grid of `interval` steps (from the
// clock's epoch). Policies with the same interval tick together, so the
// agent wakes once per interval for all of them, not once per process.
inline caf::actor_clock::time_point next_aligned_tick(caf::actor_clock::time_point now,
                                                      std::chrono::milliseconds interval) {
  auto step = std::chrono::duration_cast<caf::actor_clock::time_point::duration>(interval);
  auto since = now.time_since_epoch();
  return caf::actor_clock::time_point(since - since % step + step);
}

// The behavior of a policy that steps on its interval grid: a first step at
// once, then one per interval. `step(self)` does the work; `exec(self,
// comm)` hears of an exec of its process (ignored unless given).
template <class Self, class Step>
policy_actor::behavior_type step_on_interval(Self self, std::chrono::milliseconds interval,
                                             Step step) {
  return step_on_interval(self, interval, step, [](Self, const std::string &) {});
}

template <class Self, class Step, class Exec>
policy_actor::behavior_type step_on_interval(Self self, std::chrono::milliseconds interval,
                                             Step step, Exec exec) {
  self->send(self, atom::tick_v);
  return {
      [=](atom::tick) {
        step(self);
        self->scheduled_send(self, next_aligned_tick(self->clock().now(), interval), atom::tick_v);
      },
      [=](atom::exec, const std::string &comm) { exec(self, comm); },
  };
}

// Every policy type the agent knows, in one explicit table.
const std::vector<const policy_type *> &policy_table();

const policy_type *find_policy_type(std::string_view name);

std::vector<std::string> policy_type_names();

// config::parse with the table's names, then every policy compiled by its
// type: the one way the agent turns text into a config.
config::parse_result check_config(std::string_view json_text);
config::parse_result check_config_file(const std::string &file);

// The policy table's checks on a parsed config (types known, params valid,
// cgroup-scoped policies selected by cgroup only), compiling each policy's
// settings: for a config that comes as data, from a coordinator.
std::vector<config::config_error> compile_policies(config::agent &a);

// One policy's compile (path "policies[i]" for the errors).
std::vector<config::config_error> compile_policy(config::policy &p,
                                                 const std::string &path = "policy");

} // namespace ballast
