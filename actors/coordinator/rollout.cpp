// The coordinator's staged rollout: canaries first, a window, their pressure
// compared with before, then the rest, or a revert of the canaries.
#include "actors/coordinator/coordinator_state.hpp"

#include "actors/control/remote.hpp"
#include "actors/policies/policy.hpp"
#include "sys/log.hpp"

namespace ballast::coordinator_internal {

namespace {

// Applies `cfg` to `names`; records one outcome each under `applied_as`.
template <class Done>
void apply_to(coordinator_self self, std::vector<std::string> names, config::agent cfg,
              std::string applied_as, std::shared_ptr<fleet_apply_result> out, Done done) {
  fan_out<apply_result>(
      self, names,
      [=](const std::string &n, caf::expected<apply_result> r) {
        if (!r)
          out->agents.push_back({n, "unreachable", {error_text(self->system(), r.error())}});
        else if (!r->applied)
          out->agents.push_back({n, "refused", r->errors});
        else
          out->agents.push_back({n, applied_as, {}});
      },
      std::move(done), atom::apply_v, std::move(cfg));
}

void finish_rollout(coordinator_self self, const std::string &outcome) {
  auto &st = self->state;
  st.running->result.rollout = outcome;
  st.running->result.elapsed_us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - st.running->started)
          .count();
  st.rollouts->Add({{"result", outcome}}).Increment();
  st.set_rollout(outcome == "reverted" ? "reverted" : "done");
  log::info("coordinator", "rollout ", st.running->id, ": ", outcome);
  st.running->rp.deliver(st.running->result);
  st.running.reset();
}

} // namespace

void judge_canaries(coordinator_self self) {
  auto &run = *self->state.running;
  auto after = std::make_shared<std::map<std::string, double>>();
  fan_out<agent_status>(
      self, run.canaries,
      [=](const std::string &n, caf::expected<agent_status> s) {
        (*after)[n] = s ? s->pressure : 1e9; // a canary that died counts as worse
      },
      [=] {
        auto &run = *self->state.running;
        std::string worse;
        for (auto &[n, p] : *after)
          if (p > run.before[n] + worse_pressure_points)
            worse = n + " (pressure " + std::to_string(run.before[n]) + " -> " + std::to_string(p) +
                    " %)";
        auto out = std::make_shared<fleet_apply_result>(run.result);
        if (!worse.empty()) {
          log::warn("coordinator", "rollout ", run.id, ": canary ", worse, " got worse: reverting");
          self->state.set_rollout("reverted");
          std::vector<std::string> canaries = run.canaries;
          auto pending = std::make_shared<size_t>(canaries.size());
          out->agents.clear();
          for (auto &n : run.rest)
            out->agents.push_back({n, "skipped", {"canary " + worse + " got worse"}});
          for (auto &n : canaries)
            apply_to(self, {n}, run.previous[n], "reverted", out, [=] {
              if (--*pending == 0) {
                self->state.running->result = *out;
                finish_rollout(self, "reverted");
              }
            });
          return;
        }
        self->state.set_rollout("applying");
        apply_to(self, run.rest, run.next, "applied", out, [=] {
          self->state.running->result = *out;
          finish_rollout(self, "applied");
        });
      },
      atom::status_v);
}

namespace {

void start_canaries(coordinator_self self, std::chrono::milliseconds window) {
  auto &run = *self->state.running;
  self->state.set_rollout("canary");
  for (auto &n : run.canaries)
    run.before[n] = self->state.agents[n].last.pressure;
  fan_out<config::agent>(
      self, run.canaries,
      [=](const std::string &n, caf::expected<config::agent> c) {
        if (c)
          self->state.running->previous[n] = std::move(*c);
      },
      [=] {
        auto &run = *self->state.running;
        auto out = std::make_shared<fleet_apply_result>(run.result);
        apply_to(self, run.canaries, run.next, "applied", out, [=] {
          self->state.running->result = *out;
          log::info("coordinator", "rollout ", self->state.running->id, ": canaries ",
                    self->state.running->canaries.size(), " applied; judging in ", window.count(),
                    " ms");
          self->delayed_send(self, window, atom::tick_v, self->state.running->id);
        });
      },
      atom::config_v);
}

} // namespace

caf::result<fleet_apply_result> on_fleet_apply(coordinator_self self, fleet_apply req) {
  auto &st = self->state;
  auto rp = self->make_response_promise<fleet_apply_result>();
  if (st.running) {
    rp.deliver(caf::make_error(caf::sec::invalid_argument, "refused: a rollout is running"));
    return rp;
  }
  fleet_apply_result result;
  std::vector<std::string> targets;
  for (auto &[name, a] : st.agents) {
    bool named = req.agents.empty() ||
                 std::find(req.agents.begin(), req.agents.end(), name) != req.agents.end();
    if (!named)
      continue;
    if (a.handle)
      targets.push_back(name);
    else
      result.agents.push_back({name, "unreachable", {a.error}});
  }
  for (auto &n : req.agents)
    if (!st.agents.count(n))
      result.agents.push_back({n, "unknown", {"not an agent of this coordinator"}});
  auto checked = check_config(req.config_json);
  if (!checked.value) {
    std::vector<std::string> errors;
    for (auto &e : checked.errors)
      errors.push_back(e.to_string());
    for (auto &n : targets)
      result.agents.push_back({n, "refused", errors});
    result.rollout = "refused";
    rp.deliver(std::move(result));
    return rp;
  }
  st.running = rollout_run{
      ++st.next_rollout, clock::now(), std::move(*checked.value), {}, {}, {}, {}, result, rp};
  auto &run = *st.running;
  size_t n = std::min<size_t>(req.canaries, targets.size());
  run.canaries.assign(targets.begin(), targets.begin() + n);
  run.rest.assign(targets.begin() + n, targets.end());
  log::info("coordinator", "rollout ", run.id, " to ", targets.size(), " agents",
            n ? ", " + std::to_string(n) + " canaries first" : std::string());
  if (n > 0) {
    start_canaries(self, std::chrono::milliseconds(req.window_ms));
  } else {
    st.set_rollout("applying");
    auto out = std::make_shared<fleet_apply_result>(run.result);
    apply_to(self, run.rest, run.next, "applied", out, [=] {
      self->state.running->result = *out;
      finish_rollout(self, "applied");
    });
  }
  return rp;
}

} // namespace ballast::coordinator_internal
