// The control actor: an agent's control interface (control_actor in
// messages/protocol.hpp), published by the middleman for ballastctl and a
// coordinator. It answers from the supervisor's config and the registry's
// cgroup actors, applies configs through the supervisor (validated first:
// a refused config changes nothing), freezes and thaws cgroups by holding a
// claim on cgroup.freeze (so its own end thaws them), and streams the
// agent's log lines at info and above to watching clients as control_events.
#pragma once

#include "actors/control/control_gate.hpp"
#include "messages/protocol.hpp"

#include <chrono>
#include <string>

namespace ballast {

struct control_env {
  std::string cgroup_root; // request paths are confined to it
  std::string proc_root;   // for /proc/pressure
  std::chrono::steady_clock::time_point started;
  control_gate gate; // who may read and change
  job_supervisor_actor jobs;
};

control_actor spawn_control(caf::actor_system &sys, supervisor_actor supervisor, control_env env);

} // namespace ballast
