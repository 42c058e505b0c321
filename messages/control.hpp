// Requests and replies of the control interface: what ballastctl and a
// coordinator exchange with an agent (and ballastctl with a coordinator).
// Every type has an `inspect` and a name in the type-ID block: these cross
// the network.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ballast {

// What a client proves about itself with each request: the secret from the
// agent's cookie file (readable by root and the control group only), or
// nothing. Over TLS the client's certificate is the proof and this is empty.
struct credential {
  std::string cookie;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, credential &x) {
  return f(caf::meta::type_name("ballast.credential"), x.cookie);
}

// One agent at a glance.
struct agent_status {
  std::string version;
  double uptime_s = 0;
  std::string config_hash;
  bool dry_run = false;
  uint64_t cgroups = 0;  // watched cgroups (cgroup actors)
  uint64_t policies = 0; // live policy actors
  uint64_t claims = 0;   // standing claims over all cgroups
  // The highest "some" avg10 (%) of cpu, memory and io at the top of each
  // watched subtree (/proc/pressure for "/**"): what a rollout compares.
  double pressure = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, agent_status &x) {
  return f(caf::meta::type_name("ballast.agent_status"), x.version, x.uptime_s, x.config_hash,
           x.dry_run, x.cgroups, x.policies, x.claims, x.pressure);
}

// A configured policy and how many actors run it.
struct policy_info {
  std::string name;
  std::string type;
  std::string scope; // process, cgroup, group
  int64_t interval_ms = 0;
  uint64_t live = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, policy_info &x) {
  return f(caf::meta::type_name("ballast.policy_info"), x.name, x.type, x.scope, x.interval_ms,
           x.live);
}

// The answer to a config change: applied (and its hash), or refused with
// every error ("policies[1].interval: must be at least 10ms"); a refused
// config leaves the running one in place.
struct apply_result {
  bool applied = false;
  std::vector<std::string> errors;
  std::string config_hash;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, apply_result &x) {
  return f(caf::meta::type_name("ballast.apply_result"), x.applied, x.errors, x.config_hash);
}

// One event streamed to a watching client: a knob write or restore, a
// policy's decision, lost kernel events, a config change...
struct control_event {
  std::string agent; // who saw it (host:port as the coordinator knows it; "" locally)
  int64_t unix_ms = 0;
  std::string level;  // info, warn, error
  std::string source; // cgroup, budget, registry, ...
  std::string text;
  std::string kind = "log"; // or an event's: "job.start", "job.exit", ... (README)
  std::vector<std::pair<std::string, std::string>> fields;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, control_event &x) {
  return f(caf::meta::type_name("ballast.control_event"), x.agent, x.unix_ms, x.level, x.source,
           x.text, x.kind, x.fields);
}

// A coordinator's view of one agent.
struct fleet_agent {
  std::string name; // host:port
  bool up = false;
  agent_status status; // the last one received
  std::string error;   // why it is down
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, fleet_agent &x) {
  return f(caf::meta::type_name("ballast.fleet_agent"), x.name, x.up, x.status, x.error);
}

struct fleet_status {
  std::vector<fleet_agent> agents;
  std::string rollout; // idle, canary, applying, reverted, done
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, fleet_status &x) {
  return f(caf::meta::type_name("ballast.fleet_status"), x.agents, x.rollout);
}

// A config for the fleet: to every agent, or to those named; with canaries
// > 0 a staged rollout: the first `canaries` agents get it, and the rest only
// if the canaries' pressure did not get worse over `window_ms`
// (otherwise the canaries get their previous config back).
struct fleet_apply {
  std::string config_json;
  std::vector<std::string> agents; // empty: all
  uint32_t canaries = 0;
  int64_t window_ms = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, fleet_apply &x) {
  return f(caf::meta::type_name("ballast.fleet_apply"), x.config_json, x.agents, x.canaries,
           x.window_ms);
}

// One agent's outcome of a fleet apply.
struct agent_outcome {
  std::string agent;
  std::string outcome; // applied, refused, unreachable, skipped, reverted
  std::vector<std::string> errors;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector &f, agent_outcome &x) {
  return f(caf::meta::type_name("ballast.agent_outcome"), x.agent, x.outcome, x.errors);
}

struct fleet_apply_result {
  std::vector<agent_outcome> agents;
  std::string rollout;    // applied, reverted, refused
  int64_t elapsed_us = 0; // from the request to the last agent's answer
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector &f, fleet_apply_result &x) {
  return f(caf::meta::type_name("ballast.fleet_apply_result"), x.agents, x.rollout, x.elapsed_us);
}

} // namespace ballast
