// The coordinator's behavior: the control interface for a fleet, on top of
// its agent links (agent_links.cpp) and rollouts (rollout.cpp).
#include "actors/coordinator/coordinator_state.hpp"

#include "actors/control/remote.hpp"
#include "ballast_version.hpp"
#include "sys/log.hpp"

namespace ballast {

namespace {

using namespace coordinator_internal;

caf::error agent_only() {
  return caf::make_error(caf::sec::invalid_argument,
                         "jobs run on an agent: give its --host, not the coordinator's");
}

// Timers are our own: a client that sends a tick neither beats nor ends a
// rollout's window early.
bool from_self(coordinator_self self) {
  return self->current_sender() == self->ctrl();
}

// "agent:/path" -> the agent's handle, credential and the path; errors go to rp.
template <class Promise, class F>
void on_agent_path(coordinator_self self, Promise rp, const std::string &where, F then) {
  auto colon = where.find(":/");
  auto it = colon == std::string::npos ? self->state.agents.end()
                                       : self->state.agents.find(where.substr(0, colon));
  if (it == self->state.agents.end() || !it->second.handle) {
    rp.deliver(
        caf::make_error(caf::sec::invalid_argument,
                        "refused: '" + where + "' is not AGENT:/path for an agent that is up"));
    return;
  }
  then(it->second.handle, it->second.cred, where.substr(colon + 1));
}

control_actor::behavior_type coordinator(coordinator_self self, coordinator_env env) {
  auto &st = self->state;
  st.env = std::move(env);
  st.agent_up = &prometheus::BuildGauge()
                     .Name("ballast_coordinator_agent_up")
                     .Help("1 while the coordinator has a live connection to the agent")
                     .Register(*st.env.metrics);
  st.rollout_state =
      &prometheus::BuildGauge()
           .Name("ballast_coordinator_rollout_state")
           .Help("1 for the current rollout state: idle, canary, applying, reverted, done")
           .Register(*st.env.metrics);
  st.rollouts = &prometheus::BuildCounter()
                     .Name("ballast_coordinator_rollouts_total")
                     .Help("Fleet applies by result: applied, reverted, refused")
                     .Register(*st.env.metrics);
  for (auto r : {"applied", "reverted", "refused"})
    st.rollouts->Add({{"result", r}});
  st.heartbeat_seconds =
      &prometheus::BuildHistogram()
           .Name("ballast_coordinator_heartbeat_seconds")
           .Help("From a heartbeat's status request to the agent's answer")
           .Register(*st.env.metrics)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.5e-3, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3,
                                                            50e-3, 100e-3, 250e-3, 500e-3, 1});
  st.set_rollout("idle");
  for (auto &name : st.env.agents) {
    auto hp = parse_host_port(name);
    auto &a = st.agents[name];
    a.name = name;
    a.host = hp ? hp->first : name;
    a.port = hp ? hp->second : default_control_port;
    a.up_series = &st.agent_up->Add({{"agent", name}});
  }
  self->set_down_handler([=](caf::down_msg &dm) {
    self->state.watching->drop(dm.source);
    for (auto &[name, a] : self->state.agents)
      if (a.handle && a.handle.address() == dm.source)
        mark_down(self, a, "connection lost (" + self->system().render(dm.reason) + ")");
  });
  self->send(self, atom::tick_v);

  return {
      [=](atom::tick) {
        if (!from_self(self))
          return;
        beat(self);
        self->delayed_send(self, heartbeat, atom::tick_v);
      },
      [=](atom::tick, uint64_t id) {
        if (from_self(self) && self->state.running && self->state.running->id == id)
          judge_canaries(self);
      },
      [=](const credential &who, atom::status) -> caf::result<agent_status> {
        if (auto refusal = self->state.env.gate.check(who, access::read, "status"))
          return refusal;
        auto &st = self->state;
        agent_status s;
        s.version = BALLAST_VERSION;
        s.uptime_s = std::chrono::duration<double>(clock::now() - st.started).count();
        s.dry_run = true;
        for (auto &[name, a] : st.agents) {
          if (!a.handle)
            continue;
          s.config_hash = s.config_hash.empty() || s.config_hash == a.last.config_hash
                              ? a.last.config_hash
                              : "mixed";
          s.dry_run = s.dry_run && a.last.dry_run;
          s.cgroups += a.last.cgroups;
          s.policies += a.last.policies;
          s.claims += a.last.claims;
          s.pressure = std::max(s.pressure, a.last.pressure);
        }
        return s;
      },
      [=](const credential &who, atom::fleet) -> caf::result<fleet_status> {
        if (auto refusal = self->state.env.gate.check(who, access::read, "fleet"))
          return refusal;
        fleet_status f;
        for (auto &[name, a] : self->state.agents)
          f.agents.push_back({name, bool(a.handle), a.last, a.error});
        f.rollout = self->state.rollout;
        return f;
      },
      [=](const credential &who, fleet_apply &req) -> caf::result<fleet_apply_result> {
        if (auto refusal = self->state.env.gate.check(who, access::change, "rollout"))
          return refusal;
        return on_fleet_apply(self, std::move(req));
      },
      [=](const credential &who, atom::apply, std::string &text) {
        auto rp = self->make_response_promise<apply_result>();
        if (self->state.env.gate.refuse(rp, who, access::change, "apply"))
          return rp;
        self->request(caf::actor_cast<control_actor>(self), caf::infinite, who,
                      fleet_apply{text, {}, 0, 0})
            .then(
                [=](fleet_apply_result &r) mutable {
                  apply_result out{r.rollout == "applied", {}, ""};
                  for (auto &a : r.agents)
                    for (auto &e : a.errors)
                      out.errors.push_back(a.agent + ": " + a.outcome + ": " + e);
                  rp.deliver(std::move(out));
                },
                [=](caf::error &e) mutable { rp.deliver(std::move(e)); });
        return rp;
      },
      [=](const credential &, atom::apply, config::agent &) -> caf::result<apply_result> {
        return caf::make_error(caf::sec::invalid_argument,
                               "refused: send a coordinator JSON (apply or rollout)");
      },
      [=](const credential &, atom::config) -> caf::result<config::agent> {
        return caf::make_error(caf::sec::invalid_argument, "refused: ask an agent for its config");
      },
      [=](const credential &who, atom::cgroups) -> caf::result<std::vector<cgroup_status>> {
        if (auto refusal = self->state.env.gate.check(who, access::read, "cgroups"))
          return refusal;
        return gather<cgroup_status>(
            self, atom::cgroups_v,
            [](const std::string &n, cgroup_status &c) { c.path = n + ":" + c.path; });
      },
      [=](const credential &who, atom::policies) -> caf::result<std::vector<policy_info>> {
        if (auto refusal = self->state.env.gate.check(who, access::read, "policies"))
          return refusal;
        return gather<policy_info>(
            self, atom::policies_v,
            [](const std::string &n, policy_info &p) { p.name = n + "/" + p.name; });
      },
      [=](const credential &who, atom::dry_run) -> caf::result<bool> {
        if (auto refusal = self->state.env.gate.check(who, access::read, "dry-run"))
          return refusal;
        bool all = true;
        for (auto &[name, a] : self->state.agents)
          all = all && (!a.handle || a.last.dry_run);
        return all;
      },
      [=](const credential &who, atom::dry_run, bool on) {
        auto rp = self->make_response_promise<apply_result>();
        if (self->state.env.gate.refuse(rp, who, access::change, on ? "dry-run on" : "dry-run off"))
          return rp;
        auto out = std::make_shared<apply_result>(apply_result{true, {}, ""});
        fan_out<apply_result>(
            self, up_agents(self),
            [=](const std::string &n, caf::expected<apply_result> r) {
              if (!r || !r->applied) {
                out->applied = false;
                out->errors.push_back(
                    n + ": " + (r ? r->errors.front() : error_text(self->system(), r.error())));
              }
            },
            [=]() mutable { rp.deliver(*out); }, atom::dry_run_v, on);
        return rp;
      },
      [=](const credential &who, atom::freeze, std::string &where) {
        auto rp = self->make_response_promise<bool>();
        if (!self->state.env.gate.refuse(rp, who, access::change, "freeze"))
          on_agent_path(self, rp, where,
                        [=](control_actor a, credential c, std::string path) mutable {
                          rp.delegate(a, std::move(c), atom::freeze_v, std::move(path));
                        });
        return rp;
      },
      [=](const credential &who, atom::thaw, std::string &where) {
        auto rp = self->make_response_promise<bool>();
        if (!self->state.env.gate.refuse(rp, who, access::change, "thaw"))
          on_agent_path(self, rp, where,
                        [=](control_actor a, credential c, std::string path) mutable {
                          rp.delegate(a, std::move(c), atom::thaw_v, std::move(path));
                        });
        return rp;
      },
      [=](const credential &who, atom::release, std::string &where) {
        auto rp = self->make_response_promise<uint64_t>();
        if (!self->state.env.gate.refuse(rp, who, access::change, "release"))
          on_agent_path(self, rp, where,
                        [=](control_actor a, credential c, std::string path) mutable {
                          rp.delegate(a, std::move(c), atom::release_v, std::move(path));
                        });
        return rp;
      },
      [=](const credential &who, atom::watch) -> caf::result<bool> {
        if (auto refusal = self->state.env.gate.check(who, access::read, "watch"))
          return refusal;
        return self->state.watching->add_sender(self);
      },
      // Jobs run on an agent: ballastctl --host names it.
      [=](const credential &, atom::challenge) -> caf::result<std::string> { return agent_only(); },
      [=](const credential &, job_request &) -> caf::result<job_info> { return agent_only(); },
      [=](const credential &, atom::jobs) -> caf::result<std::vector<job_info>> {
        return agent_only();
      },
      [=](const credential &, job_command &) -> caf::result<job_info> { return agent_only(); },
      [=](const credential &, atom::stats) -> caf::result<std::vector<pressure_line>> {
        return agent_only();
      },
      [=](const credential &, job_log_cursor &) -> caf::result<job_log_chunk> {
        return agent_only();
      },
  };
}

} // namespace

control_actor spawn_coordinator(caf::actor_system &sys, coordinator_env env) {
  return sys.spawn(coordinator, std::move(env));
}

} // namespace ballast
