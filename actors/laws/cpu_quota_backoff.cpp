// cpu_quota_backoff; see cpu_quota_backoff.hpp.
#include "actors/laws/cpu_quota_backoff.hpp"

#include <algorithm>

namespace ballast {

cpu_quota_backoff::cpu_quota_backoff(cpu_backoff_settings s, double host_cores)
    : s_(s), ceiling_(s.max_cores > 0 ? s.max_cores : host_cores) {}

std::optional<double> cpu_quota_backoff::step(double pressure_pct) {
  if (pressure_pct > s_.threshold_pct) {
    calm_ = 0;
    quota_ = std::max(s_.min_cores, quota_.value_or(ceiling_) - s_.step_cores);
  } else if (pressure_pct < s_.release_pct) {
    if (++calm_ >= s_.calm && quota_) {
      double up = *quota_ + s_.step_cores;
      quota_ = up >= ceiling_ ? std::nullopt : std::optional<double>(up);
    }
  } else {
    calm_ = 0;
  }
  return quota_;
}

} // namespace ballast
