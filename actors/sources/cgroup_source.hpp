// The cgroup source actor: owns the BPF poller (skeleton + thread) and sends
// what it drains to the registry. Once its programs are attached it asks the
// registry to scan, so nothing that happened before falls between. If the
// poller thread fails the actor quits with the reason; the supervisor
// restarts it.
#pragma once

#include "actors/metrics/agent_metrics.hpp"
#include "messages/protocol.hpp"

#include <memory>

namespace ballast {

source_actor spawn_cgroup_source(caf::actor_system &sys, registry_actor registry,
                                 uint32_t ring_buffer_bytes,
                                 std::shared_ptr<agent_metrics> metrics);

} // namespace ballast
