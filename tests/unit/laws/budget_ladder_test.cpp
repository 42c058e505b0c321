// The budget ladder: one rung at a time, cool-down, hysteresis on the way
// down, rungs turned off, and a rung skipped for one step.
#include "actors/laws/budget_ladder.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

using namespace std::chrono_literals;
using clock = budget_ladder::clock;
constexpr uint64_t MiB = 1ull << 20;

budget_settings rungs() {
  budget_settings s;
  s.thresholds = {100 * MiB, 200 * MiB, 300 * MiB, 400 * MiB};
  s.hysteresis = 0.1;
  s.cooldown = 5s;
  return s;
}

TEST(BudgetLadder, ClimbsOneRungPerCooldown) {
  budget_ladder l(rungs());
  auto t = clock::time_point{} + 1h;
  EXPECT_EQ(l.step(500 * MiB, t), budget_level::trace);
  EXPECT_EQ(l.step(500 * MiB, t + 1s), budget_level::trace); // cooling down
  EXPECT_EQ(l.step(500 * MiB, t + 5s), budget_level::throttle);
  EXPECT_EQ(l.step(500 * MiB, t + 10s), budget_level::freeze);
  EXPECT_EQ(l.step(500 * MiB, t + 15s), budget_level::kill);
  EXPECT_EQ(l.step(500 * MiB, t + 20s), budget_level::kill);
}

TEST(BudgetLadder, StaysWhileUsageIsBetweenRungs) {
  budget_ladder l(rungs());
  auto t = clock::time_point{} + 1h;
  EXPECT_EQ(l.step(150 * MiB, t), budget_level::trace);
  EXPECT_EQ(l.step(199 * MiB, t + 10s), budget_level::trace);
  EXPECT_EQ(l.step(50 * MiB, t + 20s), budget_level::ok);
}

TEST(BudgetLadder, StepsDownOnlyBelowTheHysteresisBand) {
  budget_ladder l(rungs());
  auto t = clock::time_point{} + 1h;
  l.step(250 * MiB, t);
  ASSERT_EQ(l.step(250 * MiB, t + 5s), budget_level::throttle);
  EXPECT_EQ(l.step(190 * MiB, t + 10s), budget_level::throttle); // 200 * 0.9 = 180
  EXPECT_EQ(l.step(179 * MiB, t + 15s), budget_level::trace);
  EXPECT_EQ(l.step(95 * MiB, t + 20s), budget_level::trace); // 100 * 0.9 = 90
  EXPECT_EQ(l.step(80 * MiB, t + 25s), budget_level::ok);
}

TEST(BudgetLadder, RungsThatAreOffAreJumped) {
  auto s = rungs();
  s.thresholds[0].reset(); // no trace
  s.thresholds[2].reset(); // no freeze
  budget_ladder l(s);
  auto t = clock::time_point{} + 1h;
  EXPECT_EQ(l.step(450 * MiB, t), budget_level::throttle);
  EXPECT_EQ(l.step(450 * MiB, t + 5s), budget_level::kill);
  EXPECT_EQ(l.step(100 * MiB, t + 10s), budget_level::throttle);
  EXPECT_EQ(l.step(100 * MiB, t + 15s), budget_level::ok);
}

TEST(BudgetLadder, ASkippedRungIsPassedOver) {
  budget_ladder l(rungs());
  auto t = clock::time_point{} + 1h;
  EXPECT_EQ(l.step(250 * MiB, t, budget_level::throttle), budget_level::trace);
  EXPECT_EQ(l.step(250 * MiB, t + 5s, budget_level::throttle), budget_level::trace);
  EXPECT_EQ(l.step(350 * MiB, t + 10s, budget_level::throttle), budget_level::freeze);
}

TEST(BudgetLadder, NewThresholdsKeepTheLevel) {
  budget_ladder l(rungs());
  auto t = clock::time_point{} + 1h;
  l.step(150 * MiB, t);
  auto s = rungs();
  s.thresholds = {1000 * MiB, 2000 * MiB, 3000 * MiB, 4000 * MiB};
  l.settings(s);
  EXPECT_EQ(l.level(), budget_level::trace);
  EXPECT_EQ(l.step(150 * MiB, t + 5s), budget_level::ok);
}

} // namespace
} // namespace ballast
