// Bursts of a signal: a burst starts when the value has been above k times
// its own EWMA for m samples in a row, and ends at the first sample back at
// or below that line. The EWMA is compared before it takes the sample, and it
// takes only samples at or below the line, so a long burst does not become
// the baseline it is measured against.
#pragma once

#include "actors/signals/ewma.hpp"

#include <cstdint>

namespace ballast {

struct burst_settings {
  double k = 2;   // how far above its average a value must be
  uint32_t m = 3; // for how many samples in a row
  std::chrono::milliseconds half_life{std::chrono::seconds(30)};
};

class burst_detector {
public:
  explicit burst_detector(burst_settings s);

  // Takes a sample; true while in a burst.
  bool observe(ewma::clock::time_point t, double x);

  bool in_burst() const { return in_burst_; }
  uint64_t bursts() const { return bursts_; } // started so far

private:
  burst_settings settings_;
  ewma baseline_;
  uint32_t above_ = 0;
  bool in_burst_ = false;
  uint64_t bursts_ = 0;
};

} // namespace ballast
