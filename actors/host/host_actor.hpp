// The host actor: the only writer of the host's system-wide knobs (the
// procfs/sysfs rows of the knob table), as a cgroup actor is of its cgroup's
// files, with the same effector: claims (highest priority wins, the latest
// among equals), the journal before a knob's first write, restore when a
// claim goes or the agent stops (or, after a crash, at its next start), and
// dry-run. The config's host settings are its own claims at priority 0;
// every other owner (a tune request) is monitored, and its claims go with it.
#pragma once

#include "actors/effector/effector.hpp"
#include "config/config.hpp"
#include "messages/protocol.hpp"

#include <string>

namespace ballast {

// system_root: where /proc and /sys are ("" on a host, a fixture in tests).
host_actor spawn_host_actor(caf::actor_system &sys, const config::agent &cfg,
                            std::string system_root, effector_deps deps);

} // namespace ballast
