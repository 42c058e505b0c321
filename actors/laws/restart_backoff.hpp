// When a failed actor is started again. The delay doubles from 100 ms to
// 10 s with each failure in a row; the fifth in a row parks it (no restart).
// A run of 60 s or more before a failure starts a new row. Pure logic, used
// by the cgroup actor for its policies and by the registry for group policies.
#pragma once

#include <chrono>
#include <optional>

namespace ballast {

class restart_backoff {
public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds first{100};
  static constexpr std::chrono::milliseconds longest{10'000};
  static constexpr unsigned park_after = 5;
  static constexpr std::chrono::milliseconds stable_after{60'000};

  // A failure at `now`: the delay before the restart, or nothing: park it.
  std::optional<std::chrono::milliseconds> failed(clock::time_point now) {
    if (in_a_row_ > 0 && now - last_start_ >= stable_after)
      in_a_row_ = 0;
    if (++in_a_row_ >= park_after)
      return std::nullopt;
    return std::min(longest, first * (1u << (in_a_row_ - 1)));
  }
  void started(clock::time_point now) { last_start_ = now; }
  unsigned in_a_row() const { return in_a_row_; }

private:
  unsigned in_a_row_ = 0;
  clock::time_point last_start_{};
};

} // namespace ballast
