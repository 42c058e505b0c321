#include "actors/laws/budget_ladder.hpp"

namespace ballast {

const char *to_string(budget_level l) {
  switch (l) {
  case budget_level::ok:
    return "ok";
  case budget_level::trace:
    return "trace";
  case budget_level::throttle:
    return "throttle";
  case budget_level::freeze:
    return "freeze";
  case budget_level::kill:
    return "kill";
  }
  return "?";
}

bool budget_ladder::enabled(budget_level l, std::optional<budget_level> skip) const {
  return s_.threshold(l).has_value() && l != skip;
}

budget_level budget_ladder::step(uint64_t usage, clock::time_point now,
                                 std::optional<budget_level> skip) {
  if (moved_ && now - *moved_ < s_.cooldown)
    return level_;
  auto at = [](int i) { return budget_level(i); };
  int current = int(level_);
  // Up: the next enabled rung above, if usage reaches any enabled rung above.
  int target = 0;
  for (int i = 1; i <= 4; ++i)
    if (enabled(at(i), skip) && usage >= *s_.threshold(at(i)))
      target = i;
  if (target > current) {
    int next = current + 1;
    while (!enabled(at(next), skip))
      ++next;
    level_ = at(next);
    moved_ = now;
    return level_;
  }
  // Down: below this rung's threshold by the hysteresis share, to the next
  // enabled rung below (ok is always there).
  if (current > 0) {
    double release = double(*s_.threshold(level_)) * (1.0 - s_.hysteresis);
    if (double(usage) < release) {
      int next = current - 1;
      while (next > 0 && !enabled(at(next), skip))
        --next;
      level_ = at(next);
      moved_ = now;
    }
  }
  return level_;
}

} // namespace ballast
