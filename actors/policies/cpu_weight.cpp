// cpu_weight policy (group): among the cgroups it selects, halves the
// cpu.weight of the ones taking CPU while another — one it protects, or
// without `protect` one within its share of the group's CPU — waits in the
// run queue longer than a target at p99, and gives the weight back once the
// contention is gone (see cpu_weight_demotion.hpp for the law). Each interval it
// asks every member's cgroup actor for the sched source's view of it; a
// member the source has not seen run lately is left out of the interval.
//   params: protect (globs of cgroup paths), target_ms, release_ms
//           (run-queue p99), calm (intervals), hold (least time demoted
//           before a step up), min, max (weights), min_cores (demoted only
//           above it), priority.
#include "actors/laws/cpu_weight_demotion.hpp"
#include "actors/policies/group_rounds.hpp"
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <map>

namespace ballast {

namespace {

struct weight_params {
  cpu_weight_settings law;
  std::vector<std::string> protect;
  int32_t priority = 0;
};

params_result<weight_params> parse(const std::string &text, const std::string &path) {
  params_result<weight_params> out;
  params_reader r(text, path);
  auto &law = out.value.law;
  double target_ms = law.target_s * 1e3, release_ms = law.release_s * 1e3;
  double calm = law.calm, min = law.min, max = law.max;
  r.number("target_ms", target_ms, 0.01, 10'000);
  r.number("release_ms", release_ms, 0, 10'000);
  r.number("calm", calm, 1, 1000);
  r.duration("hold", law.hold);
  r.number("min", min, 1, 10'000);
  r.number("max", max, 1, 10'000);
  r.number("min_cores", law.min_cores, 0, 1024);
  r.priority(out.value.priority);
  r.texts("protect", out.value.protect);
  for (auto &glob : out.value.protect)
    if (glob.empty() || glob[0] != '/')
      r.fail("protect",
             "each must be a cgroup path or glob from the cgroup2 root, like \"/web/*\"");
  if (release_ms >= target_ms)
    r.fail("release_ms", "must be below target_ms");
  if (min >= max)
    r.fail("min", "must be below max");
  law.target_s = target_ms / 1e3;
  law.release_s = release_ms / 1e3;
  law.calm = int(calm);
  law.min = uint32_t(min);
  law.max = uint32_t(max);
  out.errors = r.finish();
  return out;
}

struct member {
  group_member who;
  std::unique_ptr<policy_series> series;
  std::optional<uint32_t> held; // the weight this policy's claim holds
  bool protect = false;         // matched by params.protect
};

struct weight_state {
  static constexpr const char *name = "cpu_weight";

  config::policy cfg;
  weight_params params;
  std::shared_ptr<agent_metrics> metrics;
  std::unique_ptr<policy_presence> presence;
  std::unique_ptr<cpu_weight_demotion> law;
  std::map<uint64_t, member> members; // cgroup id -> member
  signal_round round;
};

using weight_actor = group_policy_actor::stateful_pointer<weight_state>;

void hold_weight(weight_actor self, member &m, std::optional<uint32_t> weight,
                 const std::string &why) {
  auto &st = self->state;
  if (weight == m.held)
    return;
  m.series->cpu_setting(double(weight.value_or(st.params.law.max)));
  if (!weight)
    log::info(st.cfg.name, m.who.path, ": cpu.weight back to its own (", why, ")");
  else
    log::info(st.cfg.name, m.who.path, ": cpu.weight ", *weight, " (", why, ")");
  m.series->decision(!weight ? "give_back" : !m.held || *weight < *m.held ? "demote" : "raise");
  m.held = weight;
  claim_member_knob(self, m.who, std::string(knobs::cpu_weight.name),
                    weight ? std::optional(std::to_string(*weight)) : std::nullopt, why);
}

// Every answer of the round is in: one step of the law, and the claims.
void decide(weight_actor self) {
  auto &st = self->state;
  std::vector<weight_reading> readings;
  for (auto &a : st.round.answers) {
    readings.push_back(
        {a.cgroup_id, a.cpu_cores, a.runq_p99_s, a.runq_waits, st.members.at(a.cgroup_id).protect});
    st.members.at(a.cgroup_id).series->measured(a.runq_p99_s);
  }
  auto &weights = st.law->step(readings, self->clock().now());
  char why[96];
  std::snprintf(why, sizeof why, "%s: run-queue p99 %.2f ms in the group", st.cfg.name.c_str(),
                st.law->worst_wait() * 1e3);
  for (auto &[id, m] : st.members) {
    auto w = weights.find(id);
    hold_weight(self, m, w == weights.end() ? std::nullopt : std::optional<uint32_t>(w->second),
                why);
  }
}

group_policy_actor::behavior_type cpu_weight(weight_actor self, config::policy cfg,
                                             std::shared_ptr<agent_metrics> metrics) {
  auto &st = self->state;
  st.params = settings_of<weight_params>(cfg);
  st.law = std::make_unique<cpu_weight_demotion>(st.params.law);
  st.cfg = std::move(cfg);
  st.metrics = metrics;
  st.presence = std::make_unique<policy_presence>(metrics, st.cfg.name);
  return signal_round_behavior(self, decide, [](weight_actor self, group_member &m) {
    auto &st = self->state;
    auto series = std::make_unique<policy_series>(st.metrics, st.cfg.name, m.path);
    series->setpoint(st.params.law.target_s);
    series->cpu_setting(double(st.params.law.max));
    auto &globs = st.params.protect;
    bool protect = std::any_of(globs.begin(), globs.end(),
                               [&](auto &g) { return config::glob_match(g, m.path); });
    st.members[m.id] = {std::move(m), std::move(series), std::nullopt, protect};
  });
}

} // namespace

extern const policy_type cpu_weight_policy = {
    "cpu_weight",
    "cpu.weight of a group's CPU-taking cgroups halved while the ones it protects wait in the run "
    "queue above a target; given back as the wait recedes",
    policy_scope::group,
    compile_params<parse>,
    nullptr,
    spawn_group_policy<cpu_weight>};

} // namespace ballast
