#include "actors/laws/pi_controller.hpp"

#include <algorithm>
#include <cmath>

namespace ballast {

pi_step pi_controller::step(double measured_pct, double dt_s, uint64_t output, uint64_t usage) {
  double e = measured_pct - s_.setpoint_pct;
  if (std::fabs(e) < s_.deadband_pct)
    e = 0;
  double de = first_ ? 0 : e - prev_error_;
  first_ = false;
  prev_error_ = e;
  double change = std::clamp(s_.kp * de + s_.ki * e * dt_s, -s_.max_step_down, s_.max_step_up);
  uint64_t base = change < 0 ? std::min(output, usage) : output;
  long double next = (long double)base * (1.0L + change);
  uint64_t top = std::max(s_.limit_min, s_.limit_max);
  pi_step out;
  out.error = e;
  out.change = change;
  out.output = next >= (long double)top ? top : std::max(s_.limit_min, (uint64_t)next);
  // Above the setpoint the proportional term can still lower the limit (the
  // stall fell, but not to the setpoint): the fresh floor holds it instead.
  if (e > 0)
    floor_.stalled(std::min(output, usage), s_.max_step_down);
  if (change < 0)
    out.output = floor_.lower_to(out.output, output);
  return out;
}

} // namespace ballast
