// cpuset_spread policy (group): where cgroups of its group wait in the run
// queue together over a target, gives them disjoint runs of CPUs
// (cpuset.cpus, and cpuset.mems by NUMA node where the pool spans more
// than one) sized by the CPU each took, and merges them back once they are
// calm and light (see cpuset_partition.hpp for the law). The pool is the
// host's online CPUs, or params.cpus. Each interval it asks every member's
// cgroup actor for the sched source's view of it. With more contenders than
// CPUs it does not spread, and says why (log and
// ballast_policy_refusals_total{reason="fewer_cpus_than_cgroups"}).
//   params: cpus (the pool, a CPU list), target_ms, release_ms (run-queue
//           p99), rise, calm (intervals), merge_load (share of their CPUs),
//           hold (least time spread before a merge), priority.
#include "actors/laws/cpuset_partition.hpp"
#include "actors/policies/group_rounds.hpp"
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "sys/cpu_topology.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <map>

namespace ballast {

namespace {

struct spread_params {
  cpuset_settings law;
  std::optional<std::vector<unsigned>> cpus; // the pool; the host's online CPUs if unset
  int32_t priority = 0;
};

params_result<spread_params> parse(const std::string &text, const std::string &path) {
  params_result<spread_params> out;
  params_reader r(text, path);
  auto &law = out.value.law;
  double target_ms = law.target_s * 1e3, release_ms = law.release_s * 1e3;
  double rise = law.rise, calm = law.calm;
  std::string cpus;
  r.number("target_ms", target_ms, 0.01, 10'000);
  r.number("release_ms", release_ms, 0, 10'000);
  r.number("rise", rise, 1, 1000);
  r.number("calm", calm, 1, 1000);
  r.number("merge_load", law.merge_load, 0, 1);
  r.duration("hold", law.hold);
  r.text("cpus", cpus);
  r.priority(out.value.priority);
  if (!cpus.empty()) {
    out.value.cpus = sys::parse_cpu_list(cpus);
    if (!out.value.cpus || out.value.cpus->size() < 2)
      r.fail("cpus", "must be a CPU list of two CPUs or more, like \"0-3,6\"");
  }
  if (release_ms >= target_ms)
    r.fail("release_ms", "must be below target_ms");
  law.target_s = target_ms / 1e3;
  law.release_s = release_ms / 1e3;
  law.rise = int(rise);
  law.calm = int(calm);
  out.errors = r.finish();
  return out;
}

// The CPUs the policy shares out, with their nodes: the host's online CPUs,
// or those of params.cpus that are online.
sys::cpu_topology pool_of(const spread_params &p, const std::string &policy) {
  auto host = sys::read_cpu_topology();
  if (!host) {
    log::warn(policy, ": cannot read the host's online CPUs; nothing to spread over");
    return {};
  }
  if (!p.cpus)
    return *host;
  sys::cpu_topology pool;
  for (auto cpu : *p.cpus) {
    if (!host->node_of.count(cpu)) {
      log::warn(policy, ": CPU ", cpu, " of params.cpus is not online; left out of the pool");
      continue;
    }
    pool.cpus.push_back(cpu);
    pool.node_of[cpu] = host->node_of.at(cpu);
  }
  return pool;
}

struct member {
  group_member who;
  std::unique_ptr<policy_series> series;
  std::optional<cpuset_assignment> held; // what this policy's claims hold
};

struct spread_state {
  static constexpr const char *name = "cpuset_spread";

  config::policy cfg;
  spread_params params;
  std::shared_ptr<agent_metrics> metrics;
  std::unique_ptr<policy_presence> presence;
  std::unique_ptr<cpuset_partition> law;
  size_t pool_size = 0;
  std::map<uint64_t, member> members; // cgroup id -> member
  signal_round round;
  std::string refusal; // the last one logged
};

using spread_actor = group_policy_actor::stateful_pointer<spread_state>;

void hold_cpuset(spread_actor self, member &m, const std::optional<cpuset_assignment> &a,
                 const std::string &why) {
  auto &st = self->state;
  if (a == m.held)
    return;
  auto cpus = std::string(knobs::cpuset_cpus.name), mems = std::string(knobs::cpuset_mems.name);
  if (!a) {
    log::info(st.cfg.name, m.who.path, ": cpuset back to its own (", why, ")");
    m.series->decision("merge");
    m.series->cpu_setting(double(st.pool_size));
  } else {
    log::info(st.cfg.name, m.who.path, ": cpuset.cpus ", a->cpus,
              a->mems.empty() ? "" : ", cpuset.mems " + a->mems, " (", why, ")");
    m.series->decision("spread");
    m.series->cpu_setting(
        double(sys::parse_cpu_list(a->cpus).value_or(std::vector<unsigned>{}).size()));
  }
  claim_member_knob(self, m.who, cpus, a ? std::optional(a->cpus) : std::nullopt, why);
  bool mems_held = m.held && !m.held->mems.empty();
  if ((a && !a->mems.empty()) || mems_held)
    claim_member_knob(self, m.who, mems,
                      a && !a->mems.empty() ? std::optional(a->mems) : std::nullopt, why);
  m.held = a;
}

// Every answer of the round is in: one step of the law, and the claims.
void decide(spread_actor self) {
  auto &st = self->state;
  std::vector<cpuset_reading> readings;
  for (auto &a : st.round.answers) {
    readings.push_back({a.cgroup_id, a.cpu_cores, a.runq_p99_s, a.runq_waits});
    st.members.at(a.cgroup_id).series->measured(a.runq_p99_s);
  }
  auto &given = st.law->step(readings, self->clock().now());
  if (st.law->refusal() != st.refusal) {
    st.refusal = st.law->refusal();
    if (!st.refusal.empty()) {
      log::warn(st.cfg.name, ": not spread: ", st.refusal);
      st.metrics->policy_refused(st.cfg.name, "fewer_cpus_than_cgroups");
    }
  }
  char why[96];
  std::snprintf(why, sizeof why, "%s: run-queue p99 %.2f ms in the group", st.cfg.name.c_str(),
                st.law->worst_wait() * 1e3);
  for (auto &[id, m] : st.members) {
    auto a = given.find(id);
    hold_cpuset(self, m, a == given.end() ? std::nullopt : std::optional(a->second), why);
  }
}

group_policy_actor::behavior_type cpuset_spread(spread_actor self, config::policy cfg,
                                                std::shared_ptr<agent_metrics> metrics) {
  auto &st = self->state;
  st.params = settings_of<spread_params>(cfg);
  auto pool = pool_of(st.params, cfg.name);
  st.pool_size = pool.cpus.size();
  log::info(cfg.name, ": spreads over CPUs ", sys::format_cpu_list(pool.cpus), " (", pool.nodes(),
            pool.nodes() == 1 ? " NUMA node)" : " NUMA nodes)");
  st.law = std::make_unique<cpuset_partition>(st.params.law, std::move(pool));
  st.cfg = std::move(cfg);
  st.metrics = metrics;
  st.presence = std::make_unique<policy_presence>(metrics, st.cfg.name);
  return signal_round_behavior(self, decide, [](spread_actor self, group_member &m) {
    auto &st = self->state;
    auto series = std::make_unique<policy_series>(st.metrics, st.cfg.name, m.path);
    series->setpoint(st.params.law.target_s);
    series->cpu_setting(double(st.pool_size));
    st.members[m.id] = {std::move(m), std::move(series), std::nullopt};
  });
}

} // namespace

extern const policy_type cpuset_spread_policy = {
    "cpuset_spread",
    "disjoint cpuset.cpus (and cpuset.mems by NUMA node) for a group's cgroups whose run-queue "
    "waits rise together; merged back once they are calm and light",
    policy_scope::group,
    compile_params<parse>,
    nullptr,
    spawn_group_policy<cpuset_spread>};

} // namespace ballast
