// What the registry and every cgroup actor share: the cgroup2 root (injected,
// so tests run on a fixture tree), metrics, the knob journal, the threads for
// writes that may block, and procfs.
#pragma once

#include "actors/effector/journal.hpp"
#include "actors/effector/knob_writer.hpp"
#include "actors/metrics/agent_metrics.hpp"
#include "actors/probe/sched_heartbeat.hpp"
#include "actors/sources/file_watch.hpp"
#include "actors/sources/psi_triggers.hpp"
#include "messages/protocol.hpp"
#include "sys/procfs.hpp"

#include <functional>
#include <memory>
#include <string>

namespace ballast {

struct cgroup_context {
  std::string cgroup_root;
  std::shared_ptr<agent_metrics> metrics;
  std::shared_ptr<journal> knob_journal;  // appends are one write(2): shareable
  std::shared_ptr<knob_writer> writer;    // writes that may block; null: in the actor
  std::shared_ptr<psi_triggers> triggers; // for policies that react to pressure; may be null
  std::shared_ptr<file_watch> files;      // memory.events changes; may be null
  sys::procfs proc;
  // Beaten by the registry at each sched batch, read by every probe.
  std::shared_ptr<sched_heartbeat> sched = std::make_shared<sched_heartbeat>();
  // Told of every policy actor spawned (policy name, handle), by a cgroup
  // actor or, for group policies, the registry: how actor tests reach a
  // policy to make it fail. Unset in the agent.
  std::function<void(const std::string &, const caf::actor &)> policy_spawned;
};

} // namespace ballast
