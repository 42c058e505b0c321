#include "actors/signals/burst_detector.hpp"

namespace ballast {

burst_detector::burst_detector(burst_settings s) : settings_(s), baseline_(s.half_life) {}

bool burst_detector::observe(ewma::clock::time_point t, double x) {
  auto base = baseline_.value();
  bool above = base && x > settings_.k * *base;
  above_ = above ? above_ + 1 : 0;
  if (!in_burst_ && above_ >= settings_.m) {
    in_burst_ = true;
    ++bursts_;
  } else if (in_burst_ && !above) {
    in_burst_ = false;
  }
  if (!above)
    baseline_.observe(t, x);
  return in_burst_;
}

} // namespace ballast
