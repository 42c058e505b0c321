// A proportional-integral controller on memory pressure, driving memory.high
// toward a pressure setpoint (share of time stalled, in %). It is written in
// velocity form: each step changes the output by
//   kp * (e - e_prev) + ki * e * dt        (e = measured - setpoint)
// as a share of the current output. The output itself is the integrator, so
// clamping it to [limit_min, limit_max] is the anti-windup: nothing
// accumulates while saturated, and the output leaves a bound on the first
// step the error changes sign. An error inside the deadband counts as zero;
// each step is rate-limited to max_step_down / max_step_up. Stall above the
// setpoint sets a probe floor (probe_floor.hpp) one max_step_down step above
// the level that stalled. Pure logic.
//
// Gains: near the working set, 1 % less memory.high costs about 1 % more
// stall, so kp above ~0.01 makes each step overshoot the last (a limit
// cycle); the defaults keep the loop gain near 0.5.
#pragma once

#include "actors/laws/probe_floor.hpp"

#include <cstdint>
#include <limits>

namespace ballast {

struct pi_settings {
  double setpoint_pct = 1.0;   // memory "some" stall, % of wall time
  double kp = 0.005;           // output share per % of error change
  double ki = 0.003;           // output share per % of error per second
  double deadband_pct = 0.25;  // |error| below this is no error
  double max_step_down = 0.05; // at most 5 % lower per step
  double max_step_up = 0.5;    // at most 50 % higher per step
  int floor_hold = 10;         // steps a stall's probe floor holds; 0 = none
  uint64_t limit_min = 0;
  uint64_t limit_max = std::numeric_limits<uint64_t>::max();
};

struct pi_step {
  uint64_t output = 0; // memory.high to hold
  double error = 0;    // after the deadband
  double change = 0;   // share of the previous output, after the rate limit
};

class pi_controller {
public:
  explicit pi_controller(pi_settings s) : s_(s), floor_(s.floor_hold) {}

  // measured_pct over the last dt_s seconds; output is the memory.high in
  // force, usage memory.current: a decrease starts from the lower of the
  // two, so a limit far above the usage does not take ages to matter.
  pi_step step(double measured_pct, double dt_s, uint64_t output, uint64_t usage);

  const pi_settings &settings() const { return s_; }

private:
  pi_settings s_;
  probe_floor floor_;
  double prev_error_ = 0;
  bool first_ = true;
};

} // namespace ballast
