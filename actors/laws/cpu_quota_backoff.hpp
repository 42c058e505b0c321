// The law of the cpu_backoff policy: a cgroup's CPU quota (cpu.max) taken
// down a step at a time while the pressure it watches stays above a
// threshold, held between the threshold and a lower release level
// (hysteresis), and given back a step per interval once the pressure has
// stayed under the release level for `calm` intervals in a row, until it is
// at its ceiling again, where the limit is lifted. Never below its floor.
// Pure logic: the policy measures, this decides.
#pragma once

#include <optional>

namespace ballast {

struct cpu_backoff_settings {
  double threshold_pct = 20; // % of an interval stalled: above it, a step down
  double release_pct = 5;    // under it for `calm` intervals: a step up
  int calm = 3;
  double step_cores = 0.5;
  double min_cores = 0.5;
  double max_cores = 0; // the ceiling; 0: the host's CPUs
};

class cpu_quota_backoff {
public:
  cpu_quota_backoff(cpu_backoff_settings s, double host_cores);

  // One interval's pressure (% of the interval stalled); the quota in cores
  // after it, nullopt for no limit.
  std::optional<double> step(double pressure_pct);

  std::optional<double> quota() const { return quota_; }
  double ceiling() const { return ceiling_; }

private:
  cpu_backoff_settings s_;
  double ceiling_;
  std::optional<double> quota_;
  int calm_ = 0; // intervals in a row under the release level
};

} // namespace ballast
