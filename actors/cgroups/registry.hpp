// The cgroup registry: one cgroup actor per watched cgroup, keyed by cgroup
// id. It routes source events to them, follows processes between cgroups,
// and reconciles with cgroupfs by a full scan at start, after a source
// restart and whenever the kernel reports lost events — so policies see
// what already existed and nothing a dropped record hid.
#pragma once

#include "actors/cgroups/cgroup_context.hpp"
#include "config/config.hpp"
#include "messages/protocol.hpp"

namespace ballast {

registry_actor spawn_registry(caf::actor_system &sys, config::agent cfg,
                              std::shared_ptr<const cgroup_context> ctx);

} // namespace ballast
