// An exponentially weighted moving average with a half-life in time, not in
// samples: samples that come at uneven intervals (a tick delayed, a PSI
// trigger between ticks) weigh by the time they cover. After one half-life
// a step in the input has moved the average halfway.
#pragma once

#include <chrono>
#include <optional>

namespace ballast {

class ewma {
public:
  using clock = std::chrono::steady_clock;

  explicit ewma(std::chrono::milliseconds half_life);

  // Takes x observed at t (t never goes back); the first sample is the
  // average. Returns the average after it.
  double observe(clock::time_point t, double x);

  // nullopt before the first sample.
  std::optional<double> value() const;

private:
  std::chrono::milliseconds half_life_;
  std::optional<double> value_;
  clock::time_point last_{};
};

} // namespace ballast
