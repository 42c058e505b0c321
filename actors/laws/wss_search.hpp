// Working-set search: estimate how much memory a workload needs by stepping
// memory.high down from its usage, one step per interval, until memory
// pressure appears. The estimate is the lowest limit that held without
// pressure. Pure logic: the wss_probe actor reads, writes and releases.
#pragma once

#include <cstdint>
#include <optional>

namespace ballast {

struct wss_settings {
  double step = 0.05;                 // each probe lowers the limit by 5 %
  uint64_t stall_threshold_us = 5000; // stall per interval that means pressure
  uint64_t floor = 16ull << 20;       // never probe below this
};

class wss_search {
public:
  explicit wss_search(wss_settings s) : s_(s) {}

  // Starts a search from the current usage; returns the first limit to hold.
  uint64_t start(uint64_t usage);

  // One interval under the last limit returned, with that much stall.
  // Returns the next limit to hold, or nullopt when the search is done.
  std::optional<uint64_t> step(uint64_t stall_us);

  bool done() const { return estimate_.has_value(); }
  std::optional<uint64_t> estimate() const { return estimate_; }
  uint64_t limit() const { return limit_; }

private:
  wss_settings s_;
  uint64_t limit_ = 0;
  uint64_t last_good_ = 0; // lowest limit that held without pressure
  std::optional<uint64_t> estimate_;
};

} // namespace ballast
