// cpu_weight policy (group): among the cgroups it selects, halves the
// cpu.weight of the ones taking CPU while another — one it protects, or
// without `protect` one within its share of the group's CPU — waits in the
// run queue longer than a target at p99, and gives the weight back as the
// wait recedes (see cpu_weight_demotion.hpp for the law). Each interval it
// asks every member's cgroup actor for the sched source's view of it; a
// member the source has not seen run lately is left out of the interval.
//   params: protect (globs of cgroup paths), target_ms, release_ms
//           (run-queue p99), calm (intervals), hold (least time demoted
//           before a step up), min, max (weights), min_cores (demoted only
//           above it), priority.
#include "actors/laws/cpu_weight_demotion.hpp"
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
  // The interval's round of questions: its number, the answers still out,
  // and the readings of the members the sched source saw run.
  uint64_t round = 0;
  size_t awaited = 0;
  std::vector<weight_reading> readings;
};

using weight_actor = group_policy_actor::stateful_pointer<weight_state>;

void hold_weight(weight_actor self, member &m, std::optional<uint32_t> weight,
                 const std::string &why) {
  auto &st = self->state;
  if (weight == m.held)
    return;
  m.series->output(double(weight.value_or(st.params.law.max)));
  auto knob = std::string(knobs::cpu_weight.name);
  if (!weight) {
    log::info(st.cfg.name, m.who.path, ": cpu.weight back to its own (", why, ")");
    m.series->decision("give_back");
    self->send(m.who.handle, atom::unclaim_v, knob);
    m.held.reset();
    return;
  }
  log::info(st.cfg.name, m.who.path, ": cpu.weight ", *weight, " (", why, ")");
  m.series->decision(!m.held || *weight < *m.held ? "demote" : "raise");
  m.held = weight;
  self->request(m.who.handle, caf::infinite,
                claim_request{knob, std::to_string(*weight), st.params.priority, why})
      .then([](claim_reply &) {},
            [=, path = m.who.path](caf::error &e) {
              log::warn(self->state.cfg.name, "cpu.weight claim in ", path,
                        " refused: ", to_string(e));
            });
}

// Every answer of the round is in: one step of the law, and the claims.
void decide(weight_actor self) {
  auto &st = self->state;
  auto &weights = st.law->step(st.readings, self->clock().now());
  char why[96];
  std::snprintf(why, sizeof why, "%s: run-queue p99 %.2f ms in the group", st.cfg.name.c_str(),
                st.law->worst_wait() * 1e3);
  for (auto &r : st.readings)
    st.members.at(r.id).series->measured(r.runq_p99_s);
  for (auto &[id, m] : st.members) {
    auto w = weights.find(id);
    hold_weight(self, m, w == weights.end() ? std::nullopt : std::optional<uint32_t>(w->second),
                why);
  }
}

void answered(weight_actor self, uint64_t round, const sched_signals *s) {
  auto &st = self->state;
  if (round != st.round)
    return; // a late answer of a round that is over
  if (s && s->fresh && st.members.count(s->cgroup_id))
    st.readings.push_back({s->cgroup_id, s->cpu_cores, s->runq_p99_s, s->runq_waits,
                           st.members.at(s->cgroup_id).protect});
  if (--st.awaited == 0)
    decide(self);
}

// Asks every member for its signals; the round ends with the last answer,
// or is dropped at the next tick.
void ask(weight_actor self) {
  auto &st = self->state;
  ++st.round;
  st.readings.clear();
  st.awaited = st.members.size();
  for (auto &[id, m] : st.members)
    self->request(m.who.handle, st.cfg.interval, atom::signals_v)
        .then([=, round = st.round](sched_signals &s) { answered(self, round, &s); },
              [=, round = st.round](caf::error &) { answered(self, round, nullptr); });
}

group_policy_actor::behavior_type cpu_weight(weight_actor self, config::policy cfg,
                                             std::shared_ptr<agent_metrics> metrics) {
  auto &st = self->state;
  st.params = settings_of<weight_params>(cfg);
  st.law = std::make_unique<cpu_weight_demotion>(st.params.law);
  st.cfg = std::move(cfg);
  st.metrics = metrics;
  st.presence = std::make_unique<policy_presence>(metrics, st.cfg.name);
  self->send(self, atom::tick_v);
  return {
      [=](atom::tick) {
        ask(self);
        self->scheduled_send(self, next_aligned_tick(self->clock().now(), self->state.cfg.interval),
                             atom::tick_v);
      },
      [=](group_member &m) {
        auto &st = self->state;
        auto series = std::make_unique<policy_series>(st.metrics, st.cfg.name, m.path);
        series->setpoint(st.params.law.target_s);
        series->output(double(st.params.law.max));
        auto &globs = st.params.protect;
        bool protect = std::any_of(globs.begin(), globs.end(),
                                   [&](auto &g) { return config::glob_match(g, m.path); });
        st.members[m.id] = {std::move(m), std::move(series), std::nullopt, protect};
      },
      [=](atom::left, uint64_t id) {
        self->state.law->forget(id);
        self->state.members.erase(id); // a claim on a cgroup still there ends with its owner's
      },
  };
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
