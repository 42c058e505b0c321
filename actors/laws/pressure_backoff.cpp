// pressure_backoff; see pressure_backoff.hpp.
#include "actors/laws/pressure_backoff.hpp"

#include <algorithm>

namespace ballast {

pressure_backoff::pressure_backoff(backoff_settings s, double default_ceiling)
    : s_(s), ceiling_(s.max > 0 ? s.max : default_ceiling) {}

std::optional<double> pressure_backoff::step(double pressure_pct) {
  if (pressure_pct > s_.threshold_pct) {
    calm_ = 0;
    double at = limit_.value_or(ceiling_);
    limit_ = std::max(s_.min, s_.halving ? at / 2 : at - s_.step);
  } else if (pressure_pct < s_.release_pct) {
    if (++calm_ >= s_.calm && limit_) {
      double up = s_.halving ? *limit_ * 2 : *limit_ + s_.step;
      limit_ = up >= ceiling_ ? std::nullopt : std::optional<double>(up);
    }
  } else {
    calm_ = 0;
  }
  return limit_;
}

} // namespace ballast
