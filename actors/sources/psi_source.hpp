// The PSI source actor: samples the system-wide pressure files
// (/proc/pressure/{cpu,memory,io}) every few seconds and exports their stall
// totals as ballast_system_pressure_stall_seconds_total{resource,kind}.
// Per-cgroup pressure is read through each cgroup's probe, and the PSI
// triggers policies arm live in psi_triggers (one poller thread).
#pragma once

#include "actors/metrics/agent_metrics.hpp"
#include "messages/protocol.hpp"

#include <chrono>
#include <memory>
#include <string>

namespace ballast {

psi_source_actor spawn_psi_source(caf::actor_system &sys, std::shared_ptr<agent_metrics> metrics,
                                  std::string proc_root, std::chrono::milliseconds period);

} // namespace ballast
