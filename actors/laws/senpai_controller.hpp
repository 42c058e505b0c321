// Senpai's control law (after Meta's senpai): once per interval, compare the
// memory stall time with a small target. Below it, memory.high is lowered by
// a probe step proportional to the gap; above it, raised by a backoff step
// proportional to the excess. Both steps are bounded, the limit stays within
// [limit_min, limit_max]. One addition to Meta's law: a stall sets a probe
// floor (probe_floor.hpp) one max_probe step above the level that stalled.
// Pure logic: the policy actor reads and writes.
#pragma once

#include "actors/laws/probe_floor.hpp"

#include <chrono>
#include <cstdint>
#include <limits>

namespace ballast {

struct senpai_settings {
  std::chrono::milliseconds interval{6000};
  uint64_t stall_target_us = 10'000; // memory "some" stall per interval
  double coeff_probe = 10;           // probe step = gap share * coeff, ...
  double max_probe = 0.01;           // ... at most 1 % of the limit
  double coeff_backoff = 20;         // backoff step = excess share * coeff, ...
  double max_backoff = 1.0;          // ... at most 100 % of the limit
  int floor_hold = 10;               // steps a stall's probe floor holds; 0 = none
  uint64_t limit_min = 0;
  uint64_t limit_max = std::numeric_limits<uint64_t>::max();
};

struct senpai_step {
  uint64_t limit = 0;    // the memory.high to hold now
  double adjustment = 0; // signed share of the base: -0.01 probes down 1 %
  double stall_us = 0;   // stall normalised to one interval
};

class senpai_controller {
public:
  explicit senpai_controller(senpai_settings s) : s_(s), floor_(s.floor_hold) {}

  // stall_us of memory stall over `elapsed`; usage is memory.current and
  // limit the memory.high in force (max() when unlimited). A probe starts
  // from the lower of the limit and the usage, so an unlimited cgroup is
  // probed from what it uses, not from infinity.
  senpai_step step(uint64_t stall_us, std::chrono::microseconds elapsed, uint64_t usage,
                   uint64_t limit);

  const senpai_settings &settings() const { return s_; }
  uint64_t floor_level() const { return floor_.level(); }

private:
  senpai_settings s_;
  probe_floor floor_;
};

} // namespace ballast
