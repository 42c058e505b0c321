// The coordinator's links to its agents: connect with backoff, heartbeat,
// mark down, relay each agent's events to our watchers.
#include "actors/coordinator/coordinator_state.hpp"

#include "actors/control/remote.hpp"
#include "sys/cookie.hpp"
#include "sys/log.hpp"

#include <caf/io/all.hpp>

#include <cmath>

namespace ballast::coordinator_internal {

namespace {

// Subscribes to one agent's events and relays them, tagged, to our watchers.
caf::behavior relay(caf::event_based_actor *self, control_actor agent, credential cred,
                    std::string name, std::shared_ptr<watchers> w) {
  self->request(agent, caf::infinite, std::move(cred), atom::watch_v).then([](bool) {});
  return {
      [=](control_event &ev) {
        ev.agent = name;
        w->send(ev);
      },
  };
}

} // namespace

void mark_down(coordinator_self self, agent_link &a, const std::string &why) {
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

namespace {

// An agent without TLS on this host wants its cookie; over TLS the
// coordinator's certificate is enough.
credential agent_credential(const coordinator_env &env) {
  if (env.agent_cookie.empty())
    return {};
  auto secret = sys::read_cookie(env.agent_cookie);
  if (!secret)
    log::warn("coordinator", "agent cookie: ", secret.err().message, ": changes will be refused");
  return {secret ? *secret : std::string()};
}

void connect(coordinator_self self, agent_link &a) {
  a.connecting = true;
  auto name = a.name;
  self->request(remote_manager(self->system(), self->state.env.tls), answer_within,
                caf::connect_atom::value, a.host, a.port)
      .then(
          [=](caf::node_id &, caf::strong_actor_ptr &ptr, std::set<std::string> &) {
            auto &a = self->state.agents[name];
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
          [=](caf::error &e) {
            auto &a = self->state.agents[name];
            a.connecting = false;
            mark_down(self, a, "cannot connect: " + self->system().render(e));
          });
}

} // namespace

void beat(coordinator_self self) {
  auto now = clock::now();
  for (auto &[name, a] : self->state.agents) {
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
        .then(
            [=](agent_status &s) {
              auto &a = self->state.agents[n];
              a.asking = false;
              self->state.heartbeat_seconds->Observe(
                  std::chrono::duration<double>(clock::now() - asked).count());
              // CAF 0.17 hangs serializing an infinite double, and this status
              // goes on to ballastctl: a peer's non-finite values become 0.
              for (double *d : {&s.uptime_s, &s.pressure})
                if (!std::isfinite(*d))
                  *d = 0;
              a.last = std::move(s);
            },
            [=](caf::error &e) {
              auto &a = self->state.agents[n];
              mark_down(self, a,
                        e == caf::sec::request_timeout
                            ? "no answer within 1 s (hung?)"
                            : "status failed: " + self->system().render(e));
            });
  }
}

std::vector<std::string> up_agents(coordinator_self self) {
  std::vector<std::string> out;
  for (auto &[name, a] : self->state.agents)
    if (a.handle)
      out.push_back(name);
  return out;
}

} // namespace ballast::coordinator_internal
