// The agent process around the actors: signal handling (SIGTERM/SIGINT →
// coordinated shutdown within the configured deadline, SIGHUP → reload),
// the Prometheus exposer, cgroup2 discovery, the journal and its replay.
#pragma once

#include "config/config.hpp"

#include <optional>
#include <string>

namespace ballast {

struct agent_options {
  config::agent cfg;
  std::optional<std::string> config_file; // re-read on SIGHUP; none = embedded default
  bool force_dry_run = false;
};

// Runs until SIGTERM/SIGINT, then ends the process itself (exit code 0, or
// 1 if the shutdown missed its deadline or the event source never started).
// Returns only when the agent cannot start, with the exit code to use.
int run_agent(agent_options opts);

} // namespace ballast
