// cpu_backoff's and io_limit's law on recorded series of pressure (% of each
// 1 s interval stalled): stepwise down while above the threshold, never
// under the floor, held in the hysteresis band, back up a step per calm
// interval after the calm count, the limit lifted at the ceiling; steps of
// a fixed size or halvings.
#include "actors/laws/pressure_backoff.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ballast {
namespace {

using quotas = std::vector<std::optional<double>>;

quotas run(pressure_backoff &law, const std::vector<double> &pressure) {
  quotas out;
  for (double p : pressure)
    out.push_back(law.step(p));
  return out;
}

backoff_settings settings() {
  backoff_settings s;
  s.threshold_pct = 20;
  s.release_pct = 5;
  s.calm = 2;
  s.step = 0.5;
  s.min = 0.5;
  return s;
}

TEST(PressureBackoff, StepsDownWhilePressureStaysAboveTheThresholdAndStopsAtTheFloor) {
  pressure_backoff law(settings(), 2);
  EXPECT_EQ(run(law, {3, 25, 40, 60, 80, 90}), (quotas{std::nullopt, 1.5, 1.0, 0.5, 0.5, 0.5}));
}

TEST(PressureBackoff, HoldsInTheBandAndGivesBackAStepPerCalmIntervalAfterTheCalmCount) {
  pressure_backoff law(settings(), 2);
  // Down twice; 12% is in the band (held, and it breaks the calm run); then
  // calm: the first calm interval holds, each one after gives a step back,
  // and the ceiling lifts the limit.
  EXPECT_EQ(run(law, {30, 30, 12, 2, 12, 2, 2, 2, 2}),
            (quotas{1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.5, std::nullopt, std::nullopt}));
}

TEST(PressureBackoff, PressureAgainAfterARaiseStepsDownFromWhereItIs) {
  pressure_backoff law(settings(), 4);
  EXPECT_EQ(run(law, {50, 50, 50, 1, 1, 1, 35}), (quotas{3.5, 3.0, 2.5, 2.5, 3.0, 3.5, 3.0}));
}

TEST(PressureBackoff, AConfiguredCeilingIsWhereTheFirstStepStartsAndTheLimitEnds) {
  auto s = settings();
  s.max = 1.5;
  pressure_backoff law(s, 8);
  EXPECT_EQ(law.ceiling(), 1.5);
  EXPECT_EQ(run(law, {30, 0, 0, 0}), (quotas{1.0, 1.0, std::nullopt, std::nullopt}));
}

TEST(PressureBackoff, HalvingStepsHalveDownToTheFloorAndDoubleBackToTheCeiling) {
  auto s = settings();
  s.halving = true;
  s.min = 0.1;
  pressure_backoff law(s, 1);
  EXPECT_EQ(run(law, {30, 30, 30, 30, 12, 0, 0, 0, 0, 0, 0}),
            (quotas{0.5, 0.25, 0.125, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, std::nullopt, std::nullopt}));
}

} // namespace
} // namespace ballast
