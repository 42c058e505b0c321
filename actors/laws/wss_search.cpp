#include "actors/laws/wss_search.hpp"

#include <algorithm>

namespace ballast {

uint64_t wss_search::start(uint64_t usage) {
  estimate_.reset();
  last_good_ = std::max(usage, s_.floor);
  limit_ = std::max(s_.floor, uint64_t(double(last_good_) * (1.0 - s_.step)));
  return limit_;
}

std::optional<uint64_t> wss_search::step(uint64_t stall_us) {
  if (estimate_)
    return std::nullopt;
  if (stall_us >= s_.stall_threshold_us || limit_ <= s_.floor) {
    estimate_ = stall_us >= s_.stall_threshold_us ? last_good_ : limit_;
    return std::nullopt;
  }
  last_good_ = limit_;
  limit_ = std::max(s_.floor, uint64_t(double(limit_) * (1.0 - s_.step)));
  return limit_;
}

} // namespace ballast
