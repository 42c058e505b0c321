// Internal to the coordinator: its state, shared by the three files that
// implement it — agent_links.cpp (connections, heartbeats, fan-out to the
// agents), rollout.cpp (the staged rollout's state machine) and
// coordinator.cpp (the behavior).
#pragma once

#include "actors/control/watchers.hpp"
#include "actors/coordinator/coordinator.hpp"

#include <caf/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <map>
#include <optional>

namespace ballast::coordinator_internal {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

inline constexpr auto heartbeat = 250ms;
inline constexpr auto answer_within = 1s;
inline constexpr auto first_backoff = 200ms;
inline constexpr auto max_backoff = std::chrono::milliseconds(5s);
inline constexpr auto request_timeout = 5s;

struct agent_link {
  std::string name; // host:port
  std::string host;
  uint16_t port = 0;
  control_actor handle; // invalid while down
  credential cred;      // what this agent is sent (its cookie, read at connect)
  caf::actor relay;     // watches the agent, relays its events
  bool connecting = false;
  bool asking = false; // a heartbeat is unanswered
  agent_status last;
  std::string error = "not connected yet";
  std::chrono::milliseconds backoff = first_backoff;
  clock::time_point next_attempt;
  prometheus::Gauge *up_series = nullptr;
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
  static constexpr const char *name = "coordinator";

  coordinator_state() = default; // not an aggregate (see control_actor.cpp)

  coordinator_env env;
  clock::time_point started = clock::now();
  std::map<std::string, agent_link> agents;
  std::shared_ptr<watchers> watching = std::make_shared<watchers>();
  std::string rollout = "idle";
  uint64_t next_rollout = 0;
  std::optional<rollout_run> running;
  prometheus::Family<prometheus::Gauge> *agent_up = nullptr;
  prometheus::Family<prometheus::Gauge> *rollout_state = nullptr;
  prometheus::Family<prometheus::Counter> *rollouts = nullptr;
  prometheus::Histogram *heartbeat_seconds = nullptr;

  void set_rollout(const std::string &s) {
    for (auto st : {"idle", "canary", "applying", "reverted", "done"})
      rollout_state->Add({{"state", st}}).Set(s == st ? 1 : 0);
    rollout = s;
  }
};

using coordinator_self = control_actor::stateful_pointer<coordinator_state>;

// --- agent_links.cpp ------------------------------------------------------

// Every heartbeat: ask each live agent for its status, reconnect the others.
void beat(coordinator_self self);

// A link is gone: the agent is down until a reconnect.
void mark_down(coordinator_self self, agent_link &a, const std::string &why);

// The names of the agents connected now.
std::vector<std::string> up_agents(coordinator_self self);

// Sends the same request to each named agent; `each(name, reply or error)`
// per answer, then `done()` once all have answered.
template <class Reply, class Each, class Done, class... Request>
void fan_out(coordinator_self self, const std::vector<std::string> &names, Each each, Done done,
             Request... request) {
  auto pending = std::make_shared<size_t>(names.size());
  auto finish = std::make_shared<Done>(std::move(done));
  if (names.empty()) {
    (*finish)();
    return;
  }
  for (auto &n : names) {
    auto &a = self->state.agents[n];
    if (!a.handle) {
      each(n, caf::expected<Reply>(caf::make_error(caf::sec::request_receiver_down, "down")));
      if (--*pending == 0)
        (*finish)();
      continue;
    }
    self->request(a.handle, request_timeout, a.cred, request...)
        .then(
            [=](Reply &r) mutable {
              each(n, caf::expected<Reply>(std::move(r)));
              if (--*pending == 0)
                (*finish)();
            },
            [=](caf::error &e) mutable {
              each(n, caf::expected<Reply>(std::move(e)));
              if (--*pending == 0)
                (*finish)();
            });
  }
}

// Asks every live agent for a list and replies with the lists merged, each
// item tagged with its agent by `tag(agent, item)`.
template <class Item, class Request, class Tag>
caf::typed_response_promise<std::vector<Item>> gather(coordinator_self self, Request request,
                                                      Tag tag) {
  auto rp = self->make_response_promise<std::vector<Item>>();
  auto all = std::make_shared<std::vector<Item>>();
  fan_out<std::vector<Item>>(
      self, up_agents(self),
      [=](const std::string &n, caf::expected<std::vector<Item>> r) {
        if (r)
          for (auto &item : *r) {
            tag(n, item);
            all->push_back(std::move(item));
          }
      },
      [=]() mutable { rp.deliver(std::move(*all)); }, request);
  return rp;
}

// --- rollout.cpp ----------------------------------------------------------

caf::result<fleet_apply_result> on_fleet_apply(coordinator_self self, fleet_apply req);

// The window is over: compare the canaries' pressure, then go on or revert.
void judge_canaries(coordinator_self self);

} // namespace ballast::coordinator_internal
