// The budget ladder: levels of response to a cgroup's memory usage against its
// budget. Each rung has a usage threshold and can be turned off:
//   ok -> trace (log + metric) -> throttle (memory.high) -> freeze -> kill
// Usage at or above a rung's threshold makes it the target; the ladder moves
// one enabled rung at a time with a cool-down between moves, up while the
// target is higher, down only once usage is below the current rung's
// threshold by the hysteresis share. Pure logic: the budget actor acts.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

namespace ballast {

enum class budget_level : uint8_t { ok = 0, trace = 1, throttle = 2, freeze = 3, kill = 4 };

// "ok", "trace", "throttle", "freeze", "kill".
const char *to_string(budget_level l);

struct budget_settings {
  // Threshold in bytes of trace, throttle, freeze, kill; nullopt = rung off.
  std::array<std::optional<uint64_t>, 4> thresholds;
  double hysteresis = 0.1; // step down below threshold * (1 - h)
  std::chrono::milliseconds cooldown{5000};

  std::optional<uint64_t> threshold(budget_level l) const {
    return l == budget_level::ok ? std::optional<uint64_t>(0) : thresholds[size_t(l) - 1];
  }
};

class budget_ladder {
public:
  using clock = std::chrono::steady_clock;

  explicit budget_ladder(budget_settings s) : s_(s) {}

  // The level after this sample. `skip` rungs are treated as off for this
  // step (a throttle that cannot reclaim anything, say).
  budget_level step(uint64_t usage, clock::time_point now,
                    std::optional<budget_level> skip = std::nullopt);

  budget_level level() const { return level_; }
  const budget_settings &settings() const { return s_; }
  // New thresholds (a reloaded budget file): the level stays, later steps
  // follow the new thresholds.
  void settings(budget_settings s) { s_ = s; }

private:
  bool enabled(budget_level l, std::optional<budget_level> skip) const;

  budget_settings s_;
  budget_level level_ = budget_level::ok;
  std::optional<clock::time_point> moved_;
};

} // namespace ballast
