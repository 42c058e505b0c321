// The coordinator: drives a fleet of agents through their control
// interfaces and offers the same interface for the whole fleet (ballastctl
// talks to it as to an agent). It keeps one link per agent: connect with
// backoff (200 ms doubling to 5 s), a status heartbeat every 250 ms (an agent
// that does not answer within 1 s — hung, or gone — is marked down and
// reconnected; a lost connection is noticed by the middleman's heartbeats),
// and a watch whose events it relays, tagged with the agent, to its own
// watchers. A fleet apply goes to every agent (or a named subset), or as a
// staged rollout: canaries first, the rest only if the canaries' pressure
// did not get worse over the window; otherwise the canaries get their
// previous config back and the rest never receive the new one.
#pragma once

#include "actors/control/control_gate.hpp"
#include "messages/protocol.hpp"

#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

namespace ballast {

struct coordinator_env {
  std::vector<std::string> agents; // host:port
  bool tls = false;                // connect to the agents with TLS
  control_gate gate;               // who may read and change the fleet
  std::string agent_cookie;        // an agent's cookie file, for agents without TLS
  std::shared_ptr<prometheus::Registry> metrics;
};

// A canary's pressure (some avg10, %) got worse if it rose by more than this.
inline constexpr double worse_pressure_points = 5.0;

control_actor spawn_coordinator(caf::actor_system &sys, coordinator_env env);

} // namespace ballast
