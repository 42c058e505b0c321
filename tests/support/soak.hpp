// The soak (issue 7): cycles of mkdir + attach + exec + exit + rmdir against
// a running agent, and what they leave behind. Shared by the host test (a
// short run) and bench/agent_bench soak (the 100,000-cycle run).
#pragma once

#include "tests/support/agent_process.hpp"

#include <map>
#include <string>

namespace ballast::test {

struct process_footprint {
  double rss_bytes = 0; // VmRSS
  int fds = 0;          // entries of /proc/PID/fd
};

process_footprint footprint(pid_t pid);

struct soak_result {
  int cycles = 0, warmup = 0;
  double cycle_seconds = 0; // of the cycles after the warm-up
  bool drained = false;     // every rmdir reached the agent
  process_footprint after_warmup, after;
  double cgroup_actors_before = 0, cgroup_actors_after = 0;
  double policy_actors_before = 0, policy_actors_after = 0;
  // Per kind: the events the cycles made, and those the agent counted.
  std::map<std::string, double> generated, seen;
  double lost = 0;
};

// Runs `warmup` cycles, waits for the agent to drain them, takes the
// footprint, runs the remaining cycles and takes it again once drained.
// Cycles as lifecycle_cycles, under `base` (absolute path).
soak_result run_soak(agent_process &agent, const std::string &base, int cycles, int warmup);

// The kinds the agent's counters get, on a quiet host, only from these cycles
// (the agent counts events host-wide; exec and exit come from every process).
inline const char *const soak_exclusive_kinds[] = {"cgroup_mkdir", "attach", "cgroup_rmdir"};

} // namespace ballast::test
