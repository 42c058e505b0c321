// A policy's selector compiled for matching processes: regexes built once
// per cgroup actor, not on every event.
#pragma once

#include "config/config.hpp"
#include "sys/procfs.hpp"

#include <optional>
#include <regex>

namespace ballast {

class compiled_selector {
public:
  // The config was validated: the regexes compile.
  explicit compiled_selector(const config::selector &s);

  // cgroup globs are matched by policies_for(); this checks the process.
  bool matches(const sys::process_info &p) const;

  // Only an exe regex needs /proc/PID/exe.
  bool needs_exe() const { return exe_.has_value(); }

private:
  std::optional<std::regex> comm_;
  std::optional<std::regex> exe_;
  std::vector<uint32_t> uids_;
};

} // namespace ballast
