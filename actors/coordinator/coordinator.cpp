#include "actors/coordinator/coordinator.hpp"

#include "actors/control/remote.hpp"
#include "actors/control/watchers.hpp"
#include "actors/policies/policy.hpp"
#include "ballast_version.hpp"
#include "sys/cookie.hpp"
#include "sys/log.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <cmath>
#include <map>

namespace ballast {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

constexpr auto heartbeat = 250ms;
constexpr auto answer_within = 1s;
constexpr auto first_backoff = 200ms;
constexpr auto max_backoff = std::chrono::milliseconds(5s);
constexpr auto request_timeout = 5s;

struct agent_link {
  std::string name;  // host:port
  std::string host;
  uint16_t port = 0;
  control_actor handle;  // invalid while down
  credential cred;       // what this agent is sent (its cookie, read at connect)
  caf::actor relay;      // watches the agent, relays its events
  bool connecting = false;
  bool asking = false;   // a heartbeat is unanswered
  agent_status last;
  std::string error = "not connected yet";
  std::chrono::milliseconds backoff = first_backoff;
  clock::time_point next_attempt;
  prometheus::Gauge* up_series = nullptr;
};

// A staged rollout in progress.
struct rollout_run {
  uint64_t id = 0;
  clock::time_point started = clock::now();
  config::agent next;
  std::vector<std::string> canaries, rest;
  std::map<std::string, config::agent> previous;
  std::map<std::string, double> before;
  fleet_apply_result result;
  caf::typed_response_promise<fleet_apply_result> rp;
};

struct coordinator_state {
  static constexpr const char* name = "coordinator";

  coordinator_state() = default;  // not an aggregate (see control_actor.cpp)

  coordinator_env env;
  clock::time_point started = clock::now();
  std::map<std::string, agent_link> agents;
  std::shared_ptr<watchers> watching = std::make_shared<watchers>();
  std::string rollout = "idle";
  uint64_t next_rollout = 0;
  std::optional<rollout_run> running;
  prometheus::Family<prometheus::Gauge>* agent_up = nullptr;
  prometheus::Family<prometheus::Gauge>* rollout_state = nullptr;
  prometheus::Family<prometheus::Counter>* rollouts = nullptr;
  prometheus::Histogram* heartbeat_seconds = nullptr;

  void set_rollout(const std::string& s) {
    for (auto st : {"idle", "canary", "applying", "reverted", "done"})
      rollout_state->Add({{"state", st}}).Set(s == st ? 1 : 0);
    rollout = s;
  }
};

using coordinator_self = control_actor::stateful_pointer<coordinator_state>;

// Subscribes to one agent's events and relays them, tagged, to our watchers.
caf::behavior relay(caf::event_based_actor* self, control_actor agent, credential cred,
                    std::string name, std::shared_ptr<watchers> w) {
  self->request(agent, caf::infinite, std::move(cred), atom::watch_v).then([](bool) {});
  return {
    [=](control_event& ev) {
      ev.agent = name;
      w->send(ev);
    },
  };
}

void mark_down(coordinator_self self, agent_link& a, const std::string& why) {
  if (a.handle)
    log::warn("coordinator", a.name, " is down: ", why);
  a.error = why;
  if (a.relay)
    self->send_exit(a.relay, caf::exit_reason::user_shutdown);
  a.relay = nullptr;
  a.handle = nullptr;
  a.asking = false;
  a.up_series->Set(0);
  a.next_attempt = clock::now() + a.backoff;
  a.backoff = std::min(a.backoff * 2, max_backoff);
}

// An agent without TLS on this host wants its cookie; over TLS the
// coordinator's certificate is enough.
credential agent_credential(const coordinator_env& env) {
  if (env.agent_cookie.empty())
    return {};
  auto secret = sys::read_cookie(env.agent_cookie);
  if (!secret)
    log::warn("coordinator", "agent cookie: ", secret.err().message, ": changes will be refused");
  return {secret ? *secret : std::string()};
}

void connect(coordinator_self self, agent_link& a) {
  a.connecting = true;
  auto name = a.name;
  self->request(remote_manager(self->system(), self->state.env.tls), answer_within,
                caf::connect_atom::value, a.host, a.port)
    .then(
      [=](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        auto& a = self->state.agents[name];
        a.connecting = false;
        if (!ptr) {
          mark_down(self, a, "nothing is published there");
          return;
        }
        a.handle = caf::actor_cast<control_actor>(std::move(ptr));
        a.cred = agent_credential(self->state.env);
        self->monitor(a.handle);
        a.relay = self->system().spawn(relay, a.handle, a.cred, name, self->state.watching);
        a.backoff = first_backoff;
        a.error.clear();
        a.up_series->Set(1);
        log::info("coordinator", name, " is up");
      },
      [=](caf::error& e) {
        auto& a = self->state.agents[name];
        a.connecting = false;
        mark_down(self, a, "cannot connect: " + self->system().render(e));
      });
}

// Every heartbeat: ask each live agent for its status, reconnect the others.
void beat(coordinator_self self) {
  auto now = clock::now();
  for (auto& [name, a] : self->state.agents) {
    if (!a.handle) {
      if (!a.connecting && now >= a.next_attempt)
        connect(self, a);
      continue;
    }
    if (a.asking)
      continue;
    a.asking = true;
    auto n = name;
    auto asked = clock::now();
    self->request(a.handle, answer_within, a.cred, atom::status_v)
      .then([=](agent_status& s) {
              auto& a = self->state.agents[n];
              a.asking = false;
              self->state.heartbeat_seconds->Observe(
                std::chrono::duration<double>(clock::now() - asked).count());
              // CAF 0.17 hangs serializing an infinite double, and this status
              // goes on to ballastctl: a peer's non-finite values become 0.
              for (double* d : {&s.uptime_s, &s.pressure})
                if (!std::isfinite(*d))
                  *d = 0;
              a.last = std::move(s);
            },
            [=](caf::error& e) {
              auto& a = self->state.agents[n];
              mark_down(self, a, e == caf::sec::request_timeout
                                   ? "no answer within 1 s (hung?)"
                                   : "status failed: " + self->system().render(e));
            });
  }
}

std::vector<std::string> up_agents(coordinator_self self) {
  std::vector<std::string> out;
  for (auto& [name, a] : self->state.agents)
    if (a.handle)
      out.push_back(name);
  return out;
}

// Sends the same request to each named agent; `each(name, reply or error)`
// per answer, then `done()` once all have answered.
template <class Reply, class Each, class Done, class... Request>
void fan_out(coordinator_self self, const std::vector<std::string>& names, Each each, Done done,
             Request... request) {
  auto pending = std::make_shared<size_t>(names.size());
  auto finish = std::make_shared<Done>(std::move(done));
  if (names.empty()) {
    (*finish)();
    return;
  }
  for (auto& n : names) {
    auto& a = self->state.agents[n];
    if (!a.handle) {
      each(n, caf::expected<Reply>(caf::make_error(caf::sec::request_receiver_down, "down")));
      if (--*pending == 0)
        (*finish)();
      continue;
    }
    self->request(a.handle, request_timeout, a.cred, request...)
      .then([=](Reply& r) mutable {
              each(n, caf::expected<Reply>(std::move(r)));
              if (--*pending == 0)
                (*finish)();
            },
            [=](caf::error& e) mutable {
              each(n, caf::expected<Reply>(std::move(e)));
              if (--*pending == 0)
                (*finish)();
            });
  }
}

// Asks every live agent for a list and replies with the lists merged, each
// item tagged with its agent by `tag(agent, item)`.
template <class Item, class Request, class Tag>
caf::typed_response_promise<std::vector<Item>> gather(coordinator_self self, Request request, Tag tag) {
  auto rp = self->make_response_promise<std::vector<Item>>();
  auto all = std::make_shared<std::vector<Item>>();
  fan_out<std::vector<Item>>(self, up_agents(self),
    [=](const std::string& n, caf::expected<std::vector<Item>> r) {
      if (r)
        for (auto& item : *r) {
          tag(n, item);
          all->push_back(std::move(item));
        }
    },
    [=]() mutable { rp.deliver(std::move(*all)); }, request);
  return rp;
}

// Applies `cfg` to `names`; records one outcome each under `applied_as`.
template <class Done>
void apply_to(coordinator_self self, std::vector<std::string> names, config::agent cfg,
              std::string applied_as, std::shared_ptr<fleet_apply_result> out, Done done) {
  fan_out<apply_result>(self, names,
    [=](const std::string& n, caf::expected<apply_result> r) {
      if (!r)
        out->agents.push_back({n, "unreachable", {error_text(self->system(), r.error())}});
      else if (!r->applied)
        out->agents.push_back({n, "refused", r->errors});
      else
        out->agents.push_back({n, applied_as, {}});
    },
    std::move(done), atom::apply_v, std::move(cfg));
}

void finish_rollout(coordinator_self self, const std::string& outcome) {
  auto& st = self->state;
  st.running->result.rollout = outcome;
  st.running->result.elapsed_us =
    std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - st.running->started).count();
  st.rollouts->Add({{"result", outcome}}).Increment();
  st.set_rollout(outcome == "reverted" ? "reverted" : "done");
  log::info("coordinator", "rollout ", st.running->id, ": ", outcome);
  st.running->rp.deliver(st.running->result);
  st.running.reset();
}

// The window is over: compare the canaries' pressure, then go on or revert.
void judge_canaries(coordinator_self self) {
  auto& run = *self->state.running;
  auto after = std::make_shared<std::map<std::string, double>>();
  fan_out<agent_status>(self, run.canaries,
    [=](const std::string& n, caf::expected<agent_status> s) {
      (*after)[n] = s ? s->pressure : 1e9;  // a canary that died counts as worse
    },
    [=] {
      auto& run = *self->state.running;
      std::string worse;
      for (auto& [n, p] : *after)
        if (p > run.before[n] + worse_pressure_points)
          worse = n + " (pressure " + std::to_string(run.before[n]) + " -> " + std::to_string(p) + " %)";
      auto out = std::make_shared<fleet_apply_result>(run.result);
      if (!worse.empty()) {
        log::warn("coordinator", "rollout ", run.id, ": canary ", worse, " got worse: reverting");
        self->state.set_rollout("reverted");
        std::vector<std::string> canaries = run.canaries;
        auto pending = std::make_shared<size_t>(canaries.size());
        out->agents.clear();
        for (auto& n : run.rest)
          out->agents.push_back({n, "skipped", {"canary " + worse + " got worse"}});
        for (auto& n : canaries)
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

void start_canaries(coordinator_self self, std::chrono::milliseconds window) {
  auto& run = *self->state.running;
  self->state.set_rollout("canary");
  for (auto& n : run.canaries)
    run.before[n] = self->state.agents[n].last.pressure;
  fan_out<config::agent>(self, run.canaries,
    [=](const std::string& n, caf::expected<config::agent> c) {
      if (c)
        self->state.running->previous[n] = std::move(*c);
    },
    [=] {
      auto& run = *self->state.running;
      auto out = std::make_shared<fleet_apply_result>(run.result);
      apply_to(self, run.canaries, run.next, "applied", out, [=] {
        self->state.running->result = *out;
        log::info("coordinator", "rollout ", self->state.running->id, ": canaries ",
                  self->state.running->canaries.size(), " applied; judging in ", window.count(), " ms");
        self->delayed_send(self, window, atom::tick_v, self->state.running->id);
      });
    },
    atom::config_v);
}

caf::result<fleet_apply_result> on_fleet_apply(coordinator_self self, fleet_apply req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<fleet_apply_result>();
  if (st.running) {
    rp.deliver(caf::make_error(caf::sec::invalid_argument, "refused: a rollout is running"));
    return rp;
  }
  fleet_apply_result result;
  std::vector<std::string> targets;
  for (auto& [name, a] : st.agents) {
    bool named = req.agents.empty() ||
                 std::find(req.agents.begin(), req.agents.end(), name) != req.agents.end();
    if (!named)
      continue;
    if (a.handle)
      targets.push_back(name);
    else
      result.agents.push_back({name, "unreachable", {a.error}});
  }
  for (auto& n : req.agents)
    if (!st.agents.count(n))
      result.agents.push_back({n, "unknown", {"not an agent of this coordinator"}});
  auto checked = check_config(req.config_json);
  if (!checked.value) {
    std::vector<std::string> errors;
    for (auto& e : checked.errors)
      errors.push_back(e.to_string());
    for (auto& n : targets)
      result.agents.push_back({n, "refused", errors});
    result.rollout = "refused";
    rp.deliver(std::move(result));
    return rp;
  }
  st.running = rollout_run{++st.next_rollout, clock::now(), std::move(*checked.value), {}, {}, {}, {}, result, rp};
  auto& run = *st.running;
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

// Timers are our own: a client that sends a tick neither beats nor ends a
// rollout's window early.
bool from_self(coordinator_self self) {
  return self->current_sender() == self->ctrl();
}

// "agent:/path" -> the agent's handle, credential and the path; errors go to rp.
template <class Promise, class F>
void on_agent_path(coordinator_self self, Promise rp, const std::string& where, F then) {
  auto colon = where.find(":/");
  auto it = colon == std::string::npos ? self->state.agents.end()
                                       : self->state.agents.find(where.substr(0, colon));
  if (it == self->state.agents.end() || !it->second.handle) {
    rp.deliver(caf::make_error(caf::sec::invalid_argument,
                               "refused: '" + where + "' is not AGENT:/path for an agent that is up"));
    return;
  }
  then(it->second.handle, it->second.cred, where.substr(colon + 1));
}

control_actor::behavior_type coordinator(coordinator_self self, coordinator_env env) {
  auto& st = self->state;
  st.env = std::move(env);
  st.agent_up = &prometheus::BuildGauge().Name("ballast_coordinator_agent_up")
                   .Help("1 while the coordinator has a live connection to the agent").Register(*st.env.metrics);
  st.rollout_state = &prometheus::BuildGauge().Name("ballast_coordinator_rollout_state")
                        .Help("1 for the current rollout state: idle, canary, applying, reverted, done")
                        .Register(*st.env.metrics);
  st.rollouts = &prometheus::BuildCounter().Name("ballast_coordinator_rollouts_total")
                   .Help("Fleet applies by result: applied, reverted, refused").Register(*st.env.metrics);
  for (auto r : {"applied", "reverted", "refused"})
    st.rollouts->Add({{"result", r}});
  st.heartbeat_seconds = &prometheus::BuildHistogram().Name("ballast_coordinator_heartbeat_seconds")
                            .Help("From a heartbeat's status request to the agent's answer")
                            .Register(*st.env.metrics)
                            .Add({}, prometheus::Histogram::BucketBoundaries{
                                       0.5e-3, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1});
  st.set_rollout("idle");
  for (auto& name : st.env.agents) {
    auto hp = parse_host_port(name);
    auto& a = st.agents[name];
    a.name = name;
    a.host = hp ? hp->first : name;
    a.port = hp ? hp->second : default_control_port;
    a.up_series = &st.agent_up->Add({{"agent", name}});
  }
  self->set_down_handler([=](caf::down_msg& dm) {
    self->state.watching->drop(dm.source);
    for (auto& [name, a] : self->state.agents)
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
    [=](const credential& who, atom::status) -> caf::result<agent_status> {
      if (auto refusal = self->state.env.gate.check(who, access::read, "status"))
        return refusal;
      auto& st = self->state;
      agent_status s;
      s.version = BALLAST_VERSION;
      s.uptime_s = std::chrono::duration<double>(clock::now() - st.started).count();
      s.dry_run = true;
      for (auto& [name, a] : st.agents) {
        if (!a.handle)
          continue;
        s.config_hash = s.config_hash.empty() || s.config_hash == a.last.config_hash ? a.last.config_hash : "mixed";
        s.dry_run = s.dry_run && a.last.dry_run;
        s.cgroups += a.last.cgroups;
        s.policies += a.last.policies;
        s.claims += a.last.claims;
        s.pressure = std::max(s.pressure, a.last.pressure);
      }
      return s;
    },
    [=](const credential& who, atom::fleet) -> caf::result<fleet_status> {
      if (auto refusal = self->state.env.gate.check(who, access::read, "fleet"))
        return refusal;
      fleet_status f;
      for (auto& [name, a] : self->state.agents)
        f.agents.push_back({name, bool(a.handle), a.last, a.error});
      f.rollout = self->state.rollout;
      return f;
    },
    [=](const credential& who, fleet_apply& req) -> caf::result<fleet_apply_result> {
      if (auto refusal = self->state.env.gate.check(who, access::change, "rollout"))
        return refusal;
      return on_fleet_apply(self, std::move(req));
    },
    [=](const credential& who, atom::apply, std::string& text) {
      auto rp = self->make_response_promise<apply_result>();
      if (self->state.env.gate.refuse(rp, who, access::change, "apply"))
        return rp;
      self->request(caf::actor_cast<control_actor>(self), caf::infinite, who, fleet_apply{text, {}, 0, 0})
        .then([=](fleet_apply_result& r) mutable {
                apply_result out{r.rollout == "applied", {}, ""};
                for (auto& a : r.agents)
                  for (auto& e : a.errors)
                    out.errors.push_back(a.agent + ": " + a.outcome + ": " + e);
                rp.deliver(std::move(out));
              },
              [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [=](const credential&, atom::apply, config::agent&) -> caf::result<apply_result> {
      return caf::make_error(caf::sec::invalid_argument, "refused: send a coordinator JSON (apply or rollout)");
    },
    [=](const credential&, atom::config) -> caf::result<config::agent> {
      return caf::make_error(caf::sec::invalid_argument, "refused: ask an agent for its config");
    },
    [=](const credential& who, atom::cgroups) -> caf::result<std::vector<cgroup_status>> {
      if (auto refusal = self->state.env.gate.check(who, access::read, "cgroups"))
        return refusal;
      return gather<cgroup_status>(self, atom::cgroups_v, [](const std::string& n, cgroup_status& c) {
        c.path = n + ":" + c.path;
      });
    },
    [=](const credential& who, atom::policies) -> caf::result<std::vector<policy_info>> {
      if (auto refusal = self->state.env.gate.check(who, access::read, "policies"))
        return refusal;
      return gather<policy_info>(self, atom::policies_v, [](const std::string& n, policy_info& p) {
        p.name = n + "/" + p.name;
      });
    },
    [=](const credential& who, atom::dry_run) -> caf::result<bool> {
      if (auto refusal = self->state.env.gate.check(who, access::read, "dry-run"))
        return refusal;
      bool all = true;
      for (auto& [name, a] : self->state.agents)
        all = all && (!a.handle || a.last.dry_run);
      return all;
    },
    [=](const credential& who, atom::dry_run, bool on) {
      auto rp = self->make_response_promise<apply_result>();
      if (self->state.env.gate.refuse(rp, who, access::change, on ? "dry-run on" : "dry-run off"))
        return rp;
      auto out = std::make_shared<apply_result>(apply_result{true, {}, ""});
      fan_out<apply_result>(self, up_agents(self),
        [=](const std::string& n, caf::expected<apply_result> r) {
          if (!r || !r->applied) {
            out->applied = false;
            out->errors.push_back(n + ": " + (r ? r->errors.front() : error_text(self->system(), r.error())));
          }
        },
        [=]() mutable { rp.deliver(*out); }, atom::dry_run_v, on);
      return rp;
    },
    [=](const credential& who, atom::freeze, std::string& where) {
      auto rp = self->make_response_promise<bool>();
      if (!self->state.env.gate.refuse(rp, who, access::change, "freeze"))
        on_agent_path(self, rp, where, [=](control_actor a, credential c, std::string path) mutable {
          rp.delegate(a, std::move(c), atom::freeze_v, std::move(path));
        });
      return rp;
    },
    [=](const credential& who, atom::thaw, std::string& where) {
      auto rp = self->make_response_promise<bool>();
      if (!self->state.env.gate.refuse(rp, who, access::change, "thaw"))
        on_agent_path(self, rp, where, [=](control_actor a, credential c, std::string path) mutable {
          rp.delegate(a, std::move(c), atom::thaw_v, std::move(path));
        });
      return rp;
    },
    [=](const credential& who, atom::release, std::string& where) {
      auto rp = self->make_response_promise<uint64_t>();
      if (!self->state.env.gate.refuse(rp, who, access::change, "release"))
        on_agent_path(self, rp, where, [=](control_actor a, credential c, std::string path) mutable {
          rp.delegate(a, std::move(c), atom::release_v, std::move(path));
        });
      return rp;
    },
    [=](const credential& who, atom::watch) -> caf::result<bool> {
      if (auto refusal = self->state.env.gate.check(who, access::read, "watch"))
        return refusal;
      return self->state.watching->add_sender(self);
    },
  };
}

} // namespace

control_actor spawn_coordinator(caf::actor_system& sys, coordinator_env env) {
  return sys.spawn(coordinator, std::move(env));
}

} // namespace ballast
