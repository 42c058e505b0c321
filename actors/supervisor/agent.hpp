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
  std::optional<std::string> config_file;  // re-read on SIGHUP; none = embedded default
  bool force_dry_run = false;
};

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run_agent(agent_options opts);

} // namespace ballast
