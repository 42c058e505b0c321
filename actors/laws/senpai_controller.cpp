#include "actors/laws/senpai_controller.hpp"

#include <algorithm>

namespace ballast {

namespace {

uint64_t scale(uint64_t base, double factor) {
  long double v = (long double)base * factor;
  if (v >= (long double)std::numeric_limits<uint64_t>::max())
    return std::numeric_limits<uint64_t>::max();
  return v <= 0 ? 0 : (uint64_t)v;
}

} // namespace

senpai_step senpai_controller::step(uint64_t stall_us, std::chrono::microseconds elapsed,
                                    uint64_t usage, uint64_t limit) {
  auto interval_us =
      double(std::chrono::duration_cast<std::chrono::microseconds>(s_.interval).count());
  double per_interval = elapsed.count() > 0
                            ? double(stall_us) * interval_us / double(elapsed.count())
                            : double(stall_us);
  double target = double(std::max<uint64_t>(s_.stall_target_us, 1));
  senpai_step out;
  out.stall_us = per_interval;
  uint64_t base = std::min(limit, usage);
  if (per_interval < target) {
    double adj = std::min((target - per_interval) / target * s_.coeff_probe, s_.max_probe);
    out.adjustment = -adj;
    out.limit = floor_.lower_to(scale(base, 1.0 - adj), limit);
  } else {
    double adj = std::min((per_interval - target) / target * s_.coeff_backoff, s_.max_backoff);
    out.adjustment = adj;
    out.limit = scale(limit, 1.0 + adj);
    floor_.stalled(base, s_.max_probe);
  }
  out.limit = std::clamp(out.limit, s_.limit_min, std::max(s_.limit_min, s_.limit_max));
  return out;
}

} // namespace ballast
