// A limit taken down a step at a time while the pressure it watches stays
// above a threshold, held between the threshold and a lower release level
// (hysteresis), and given back a step per interval once the pressure has
// stayed under the release level for `calm` intervals in a row, until it is
// at its ceiling again, where the limit is lifted. Never below its floor.
// A step is `step` taken off and added back (cpu_backoff: cores of
// cpu.max), or with `halving` the limit halved and doubled (io_limit: a
// share of what the cgroup did, whose range spans orders of magnitude).
// Pure logic: the policy measures, this decides.
#pragma once

#include <optional>

namespace ballast {

struct backoff_settings {
  double threshold_pct = 20; // % of an interval stalled: above it, a step down
  double release_pct = 5;    // under it for `calm` intervals: a step up
  int calm = 3;
  double step = 0.5;
  bool halving = false;
  double min = 0.5;
  double max = 0; // the ceiling; 0: the constructor's default
};

class pressure_backoff {
public:
  pressure_backoff(backoff_settings s, double default_ceiling);

  // One interval's pressure (% of the interval stalled); the limit after
  // it, nullopt for none.
  std::optional<double> step(double pressure_pct);

  std::optional<double> limit() const { return limit_; }
  double ceiling() const { return ceiling_; }

private:
  backoff_settings s_;
  double ceiling_;
  std::optional<double> limit_;
  int calm_ = 0; // intervals in a row under the release level
};

} // namespace ballast
