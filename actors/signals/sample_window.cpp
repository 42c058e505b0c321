#include "actors/signals/sample_window.hpp"

#include <algorithm>
#include <cmath>

namespace ballast {

sample_window::sample_window(size_t n) : ring_(std::max<size_t>(n, 1)) {}

void sample_window::add(double x) {
  ring_[next_] = x;
  next_ = (next_ + 1) % ring_.size();
  full_ = full_ || next_ == 0;
}

std::optional<double> sample_window::quantile(double q) const {
  if (size() == 0)
    return std::nullopt;
  std::vector<double> sorted(ring_.begin(), ring_.begin() + long(size()));
  std::sort(sorted.begin(), sorted.end());
  double rank = std::clamp(q, 0.0, 1.0) * double(sorted.size() - 1);
  auto lo = size_t(std::floor(rank));
  auto hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (rank - double(lo)) * (sorted[hi] - sorted[lo]);
}

} // namespace ballast
