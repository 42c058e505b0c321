// What the registry and every cgroup actor share: the cgroup2 root (injected,
// so tests run on a fixture tree), metrics, the knob journal and procfs.
#pragma once

#include "actors/cgroups/journal.hpp"
#include "actors/metrics/agent_metrics.hpp"
#include "sys/procfs.hpp"

#include <memory>
#include <string>

namespace ballast {

struct cgroup_context {
  std::string cgroup_root;
  std::shared_ptr<agent_metrics> metrics;
  std::shared_ptr<journal> knob_journal;  // appends are one write(2): shareable
  sys::procfs proc;
};

} // namespace ballast
