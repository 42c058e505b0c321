// wss_probe policy (per process, acting on its cgroup): estimates the
// working set by stepping memory.high down from the cgroup's usage, one step
// per interval, until memory pressure appears (see wss_search.hpp). The
// estimate is exported as ballast_wss_estimate_bytes, then memory.high is
// released (the claims ledger puts it back). With `repeat` the probe runs
// again after that long.
//   params: step (share, default 0.05), stall_threshold ("5ms" per interval),
//           floor ("16M"), repeat ("0s" = once), priority.
#include "actors/laws/wss_search.hpp"
#include "actors/policies/memory_high_claim.hpp"
#include "actors/policies/memory_sample.hpp"
#include "actors/policies/params.hpp"
#include "actors/policies/policy.hpp"
#include "actors/policies/policy_series.hpp"
#include "sys/knobs.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>

namespace ballast {

namespace {

using clock = std::chrono::steady_clock;

struct wss_params {
  wss_settings search;
  std::chrono::milliseconds repeat{0};
  int32_t priority = 0;
  bool use_reclaim = true;
};

params_result<wss_params> parse(const std::string &text, const std::string &path) {
  params_result<wss_params> out;
  params_reader r(text, path);
  auto &p = out.value;
  r.number("step", p.search.step, 0.01, 0.5);
  std::chrono::milliseconds stall{5};
  r.duration("stall_threshold", stall);
  if (stall.count() < 1)
    r.fail("stall_threshold", "must be at least 1ms");
  p.search.stall_threshold_us = uint64_t(stall.count()) * 1000;
  r.bytes("floor", p.search.floor);
  r.duration("repeat", p.repeat);
  r.flag("reclaim", p.use_reclaim);
  r.priority(p.priority);
  out.errors = r.finish();
  return out;
}

struct wss_state {
  static constexpr const char *name = "wss_probe";

  config::policy cfg;
  policy_target target;
  policy_env env;
  wss_params params;
  std::optional<wss_search> search;
  std::unique_ptr<policy_series> series;
  std::unique_ptr<policy_presence> presence;
  prometheus::Gauge *estimate = nullptr;
  uint64_t stall_base = 0;      // memory stall total when the last limit took hold
  uint64_t held = no_limit;     // the memory.high this probe holds
  bool use_reclaim = true;      // memory.reclaim before each step down
  bool waiting = false;         // a claim is unanswered
  clock::time_point next_probe; // when the next search may start

  ~wss_state() {
    if (presence)
      env.metrics->remove_series(env.metrics->wss_estimate(), estimate);
  }
};

using wss_actor = policy_actor::stateful_pointer<wss_state>;

// Holds `limit` (reclaiming down to it first, so the workload's own stall
// measures its working set, not the reclaim of its cold memory).
// `stall` is what the last limit cost, for the log.
void hold(wss_actor self, uint64_t limit, const memory_sample &s, uint64_t stall) {
  auto &st = self->state;
  st.waiting = true;
  st.series->output(double(limit));
  memory_high_change change{limit, s.current, st.held, st.params.priority,
                            st.cfg.name + ": probing the working set of pid " +
                                std::to_string(st.target.pid) + ", " + std::to_string(stall) +
                                " us stall under the last limit"};
  claim_memory_high(
      self, st.env.cgroup, change, st.use_reclaim, [=] { self->state.use_reclaim = false; },
      [=](const caf::error &e) {
        auto &st = self->state;
        st.waiting = false;
        if (!e) {
          st.held = limit;
          // Stall is measured from here: the limit holds now.
          if (auto now = read_memory_sample(*st.env.probe, st.env.proc_root))
            st.stall_base = now->stall_some_us;
          return;
        }
        log::warn(st.cfg.name, "memory.high claim in ", st.target.cgroup_path,
                  " refused: ", to_string(e), "; probe abandoned");
        st.search.reset();
        st.held = no_limit;
        self->send(st.env.cgroup, atom::unclaim_v, std::string(knobs::memory_high.name));
      });
}

void finish(wss_actor self, uint64_t stall) {
  auto &st = self->state;
  auto estimate = *st.search->estimate();
  if (!st.estimate)
    st.estimate = &st.env.metrics->add_series(st.env.metrics->wss_estimate(),
                                              {{"policy", st.cfg.name},
                                               {"cgroup", st.target.cgroup_path},
                                               {"pid", std::to_string(st.target.pid)}});
  st.estimate->Set(double(estimate));
  log::info(st.cfg.name, "pid ", st.target.pid, " in ", st.target.cgroup_path,
            ": working set about ", estimate, " bytes (", stall, " us stall under the next step",
            "); releasing memory.high");
  st.series->decision("estimate");
  st.series->output(0);
  st.search.reset();
  st.held = no_limit;
  self->send(st.env.cgroup, atom::unclaim_v, std::string(knobs::memory_high.name));
  st.next_probe =
      st.params.repeat.count() ? self->clock().now() + st.params.repeat : clock::time_point::max();
}

void step(wss_actor self) {
  auto &st = self->state;
  if (st.waiting)
    return;
  auto s = read_memory_sample(*st.env.probe, st.env.proc_root);
  if (!s)
    return;
  if (!st.search) {
    if (self->clock().now() < st.next_probe)
      return;
    if (!s->reclaimable()) {
      st.series->refused("not_reclaimable");
      log::warn(st.cfg.name, st.target.cgroup_path,
                ": not probing: no swap and mostly anonymous memory");
      st.next_probe = self->clock().now() + std::chrono::minutes(1);
      return;
    }
    st.search.emplace(st.params.search);
    st.series->decision("start");
    hold(self, st.search->start(s->current), *s, 0);
    return;
  }
  uint64_t stall = s->stall_some_us - std::min(s->stall_some_us, st.stall_base);
  st.series->measured(double(stall) / 1e6);
  if (auto next = st.search->step(stall)) {
    st.series->decision("lower");
    hold(self, *next, *s, stall);
  } else {
    finish(self, stall);
  }
}

policy_actor::behavior_type wss_probe(wss_actor self, config::policy cfg, policy_target target,
                                      policy_env env) {
  auto &st = self->state;
  st.series = std::make_unique<policy_series>(env.metrics, cfg.name, target.cgroup_path);
  st.presence = std::make_unique<policy_presence>(env.metrics, cfg.name);
  st.params = settings_of<wss_params>(cfg);
  st.use_reclaim = st.params.use_reclaim;
  st.series->setpoint(double(st.params.search.stall_threshold_us) / 1e6);
  st.cfg = std::move(cfg);
  st.target = std::move(target);
  st.env = std::move(env);
  return step_on_interval(self, self->state.cfg.interval, step);
}

} // namespace

extern const policy_type wss_probe_policy = {
    "wss_probe",
    "estimates a process's working set by lowering its cgroup's memory.high until pressure "
    "appears, then releases it",
    policy_scope::process, compile_params<parse>, spawn_policy<wss_probe>};

} // namespace ballast
