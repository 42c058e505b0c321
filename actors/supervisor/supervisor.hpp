// The supervisor: spawns the registry, the host actor and the sources,
// monitors them, restarts a dead source with exponential backoff (counted in
// ballast_source_restarts_total), forwards config reloads, and runs the
// coordinated shutdown: source first (no new events), then every cgroup
// actor and the host actor restore their knobs, then the reply to main. A
// dead registry or host actor is fatal.
//
// If the source cannot start at all the first time (no BPF here), the agent
// cannot do its job: the supervisor calls on_fatal (ballastd: remember the
// failure and raise SIGTERM, so main shuts down and exits non-zero). The
// sched and GPU sources are senses the agent can do without: one that cannot
// start is logged and tried again with the restart backoff, up to its
// parking, and started afresh when its settings change.
#pragma once

#include "actors/cgroups/cgroup_context.hpp"
#include "config/config.hpp"
#include "messages/protocol.hpp"

#include <functional>
#include <memory>
#include <string>

namespace ballast {

// Starts a sense (sched, GPU) for a config that enables it.
using sense_spawner =
    std::function<sense_actor(caf::actor_system &, registry_actor, const config::agent &)>;

struct supervisor_env {
  std::shared_ptr<const cgroup_context> ctx;
  // Starts the event source (ballastd: spawn_cgroup_source); tests inject
  // sources that fail.
  std::function<source_actor(caf::actor_system &, registry_actor, uint32_t ring_buffer_bytes)>
      spawn_source;
  std::function<void(const std::string &why)> on_fatal;
  // Where /proc and /sys are for the host actor's knobs: "" on a host, a
  // fixture tree in tests.
  std::string system_root;
  // Start the sched source (ballastd: spawn_sched_source) and the GPU
  // source when the config enables them; unset: none (actor tests feed
  // samples themselves).
  sense_spawner spawn_sched_source;
  sense_spawner spawn_gpu_source;
};

supervisor_actor spawn_supervisor(caf::actor_system &sys, config::agent cfg, supervisor_env env);

} // namespace ballast
