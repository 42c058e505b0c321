#include "actors/signals/ewma.hpp"

#include <cmath>

namespace ballast {

ewma::ewma(std::chrono::milliseconds half_life) : half_life_(half_life) {}

double ewma::observe(clock::time_point t, double x) {
  if (!value_ || half_life_.count() <= 0) {
    value_ = x;
    last_ = t;
    return x;
  }
  auto dt = std::chrono::duration<double>(std::max(t - last_, clock::duration::zero())).count();
  auto half = std::chrono::duration<double>(half_life_).count();
  double alpha = 1 - std::exp2(-dt / half); // dt = half_life: alpha = 1/2
  *value_ += alpha * (x - *value_);
  last_ = std::max(t, last_);
  return *value_;
}

std::optional<double> ewma::value() const {
  return value_;
}

} // namespace ballast
