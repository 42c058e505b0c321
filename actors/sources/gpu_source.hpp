// The GPU source actor: owns a gpu_reader, reads its clients every interval
// and walks every process's fds for new ones every rescan, and sends the
// registry one gpu_batch per read (a sample per cgroup with GPU clients). It
// exports the host-wide figures itself. On a host without a DRM device it
// says so once and stays idle, looking again at each rescan (a device may be
// bound later).
#pragma once

#include "actors/metrics/agent_metrics.hpp"
#include "actors/sources/gpu_reader.hpp"
#include "messages/protocol.hpp"

#include <chrono>
#include <memory>

namespace ballast {

struct gpu_source_options {
  std::chrono::milliseconds interval{5000};
  std::chrono::milliseconds rescan{30000};
  gpu_reader::roots roots; // a host's by default; fixture trees in tests
};

sense_actor spawn_gpu_source(caf::actor_system &sys, registry_actor registry,
                             gpu_source_options opts, std::shared_ptr<agent_metrics> metrics);

} // namespace ballast
