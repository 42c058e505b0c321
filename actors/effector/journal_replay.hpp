// Start-up recovery: an agent that died (kill -9, crash, power cut of the
// process) may have left knobs changed. Before any actor starts, the
// journal's open claims are written back to their originals — only where
// the cgroup still exists with the same id; a system knob (cgroup id 0)
// always — and the journal is emptied.
// In dry-run nothing is written: each restore is logged as what would be
// done, and the journal is kept for an agent that may write.
#pragma once

#include "actors/effector/journal.hpp"
#include "actors/metrics/agent_metrics.hpp"

#include <string>

namespace ballast {

struct replay_outcome {
  size_t restored = 0;
  size_t skipped = 0; // the cgroup is gone or is another cgroup now, or the
                      // original is unknown (records conflict)
  size_t failed = 0;  // the write failed although the cgroup exists
  size_t bad_lines = 0;
  size_t would_restore = 0; // dry-run: restores logged, not written
};

// Where the knobs live: the cgroup2 mount, and the root under which system
// knobs' /proc and /sys paths are found ("" in the agent; a fixture in tests).
struct replay_roots {
  std::string cgroup_root;
  std::string system_root;
};

replay_outcome replay_journal(journal &j, const replay_roots &roots, agent_metrics &metrics,
                              bool dry_run);

} // namespace ballast
