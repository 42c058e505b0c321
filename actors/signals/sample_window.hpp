// The last N samples of a signal and their quantiles: "run-queue delay p99
// over the last 60 ticks". Fixed memory (a ring of N), and a quantile is a
// sort of at most N values, so N stays small (tens to hundreds).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

namespace ballast {

class sample_window {
public:
  explicit sample_window(size_t n);

  void add(double x);

  // The q-quantile (0..1) of the samples held, interpolated linearly between
  // the two nearest ranks (q = 0.5 of {1, 2, 3, 4} is 2.5); nullopt when empty.
  std::optional<double> quantile(double q) const;

  size_t size() const { return full_ ? ring_.size() : next_; }

private:
  std::vector<double> ring_;
  size_t next_ = 0;
  bool full_ = false;
};

} // namespace ballast
