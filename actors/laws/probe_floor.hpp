// What a memory.high law learns from a stall: the level it had come down to
// is too low. For the next `hold` steps, decreases stop one step above it.
// Without this, a short interval takes the limit below the working set every
// other step (the plant is a cliff: 1 % under it is tens of % of stall) and
// the workload pays each time; with it, once per `hold` steps. The floor
// expires rather than sticks, so a stall that was not the limit's doing (cold
// memory being reclaimed) delays the descent but never stops it. Pure logic.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace ballast {

class probe_floor {
public:
  explicit probe_floor(int hold) : hold_(hold) {}

  // The cgroup stalled with `base` in force (the lower of memory.high and
  // memory.current); `step` is the law's largest decrease, as a share.
  void stalled(uint64_t base, double step) {
    long double v = (long double)base * (1.0L + step);
    floor_ = v >= (long double)std::numeric_limits<uint64_t>::max()
                 ? std::numeric_limits<uint64_t>::max()
                 : uint64_t(v);
    steps_ = hold_;
  }

  // A decrease from `current` to `limit`: it stops at the floor while the
  // floor holds, and never becomes a raise. Each call is one step of the hold.
  uint64_t lower_to(uint64_t limit, uint64_t current) {
    if (steps_ <= 0)
      return limit;
    --steps_;
    return std::min(std::max(limit, floor_), std::max(limit, current));
  }

  uint64_t level() const { return steps_ > 0 ? floor_ : 0; } // 0: none

private:
  int hold_;
  uint64_t floor_ = 0;
  int steps_ = 0;
};

} // namespace ballast
