// The PI controller on recorded pressure series: direction, deadband, rate
// limit, bounds, anti-windup and a step response.
#include "actors/laws/pi_controller.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

constexpr uint64_t MiB = 1ull << 20;

pi_settings defaults() {
  pi_settings s;
  s.limit_min = 64 * MiB;
  s.limit_max = 2048 * MiB;
  return s;
}

TEST(PiController, PressureBelowSetpointLowersTheLimit) {
  pi_controller c(defaults());
  auto out = c.step(0.0, 1.0, 1000 * MiB, 1000 * MiB);
  EXPECT_LT(out.output, 1000 * MiB);
  EXPECT_DOUBLE_EQ(out.error, -1.0);
}

TEST(PiController, PressureAboveSetpointRaisesTheLimit) {
  pi_controller c(defaults());
  auto out = c.step(5.0, 1.0, 500 * MiB, 500 * MiB);
  EXPECT_GT(out.output, 500 * MiB);
}

TEST(PiController, ErrorsInsideTheDeadbandAreNoErrors) {
  pi_controller c(defaults());
  auto out = c.step(1.2, 1.0, 500 * MiB, 500 * MiB); // 0.2 from the setpoint, band 0.25
  EXPECT_EQ(out.error, 0);
  EXPECT_EQ(out.output, 500 * MiB);
}

TEST(PiController, EachStepIsRateLimited) {
  auto s = defaults();
  s.ki = 10;
  pi_controller c(s);
  EXPECT_DOUBLE_EQ(c.step(0.0, 1.0, 1000 * MiB, 1000 * MiB).change, -0.05);
  pi_controller up(s);
  EXPECT_DOUBLE_EQ(up.step(100.0, 1.0, 500 * MiB, 500 * MiB).change, 0.5);
}

TEST(PiController, OutputStaysWithinBounds) {
  pi_controller c(defaults());
  EXPECT_EQ(c.step(0.0, 100.0, 65 * MiB, 65 * MiB).output, 64 * MiB);
  pi_controller up(defaults());
  EXPECT_EQ(up.step(100.0, 100.0, 2000 * MiB, 2000 * MiB).output, 2048 * MiB);
}

// Saturated at limit_max under pressure for a long time: when pressure goes
// away the output comes off the bound on the very next step (nothing was
// integrated while saturated).
TEST(PiController, AntiWindupLeavesTheBoundAtOnce) {
  auto s = defaults();
  s.floor_hold = 0; // the probe floor would hold it there: not what is tested
  pi_controller c(s);
  uint64_t out = 2048 * MiB;
  for (int i = 0; i < 200; ++i)
    out = c.step(20.0, 1.0, out, out).output;
  ASSERT_EQ(out, 2048 * MiB);
  out = c.step(0.0, 1.0, out, out).output;
  EXPECT_LT(out, 2048 * MiB);
}

TEST(PiController, AStallHoldsLaterDecreasesAboveTheLevelThatStalled) {
  auto s = defaults();
  s.floor_hold = 3;
  pi_controller c(s);
  c.step(30.0, 1.0, 500 * MiB, 480 * MiB); // stalled with 480 MiB in use
  const auto floor = uint64_t(480 * MiB * (1 + s.max_step_down));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(c.step(0.0, 1.0, 900 * MiB, 480 * MiB).output, floor) << i;
  EXPECT_LT(c.step(0.0, 1.0, 900 * MiB, 480 * MiB).output, floor);
}

TEST(PiController, NoDecreaseWhileThePressureIsAboveTheSetpoint) {
  pi_controller c(defaults());
  c.step(30.0, 1.0, 500 * MiB, 480 * MiB);
  // The stall fell a lot but is still above the setpoint: the proportional
  // term alone would take the limit under the 480 MiB in use.
  EXPECT_EQ(c.step(2.0, 1.0, 600 * MiB, 480 * MiB).output, uint64_t(480 * MiB * 1.05));
}

TEST(PiController, DecreasesStartFromUsageWhenTheLimitIsFarAbove) {
  pi_controller c(defaults());
  auto out = c.step(0.0, 1.0, 2048 * MiB, 300 * MiB);
  EXPECT_LT(out.output, 300 * MiB);
}

// A plant whose pressure rises as the limit goes below a 400 MiB working
// set: the controller settles with the pressure near the setpoint and the
// limit a little under the working set.
TEST(PiController, StepResponseSettlesNearTheSetpoint) {
  auto s = defaults();
  pi_controller c(s);
  const double wss = 400.0 * MiB;
  uint64_t limit = 1500 * MiB;
  double pressure = 0;
  for (int i = 0; i < 600; ++i) {
    pressure = limit >= wss ? 0 : (wss - double(limit)) / wss * 100.0; // % stalled
    limit =
        c.step(pressure, 1.0, limit, std::min<uint64_t>(limit, uint64_t(wss) + 50 * MiB)).output;
  }
  EXPECT_NEAR(pressure, s.setpoint_pct, s.deadband_pct + 0.5) << "limit " << limit / MiB << " MiB";
  EXPECT_GT(double(limit), wss * 0.95);
  EXPECT_LT(double(limit), wss * 1.05);
}

} // namespace
} // namespace ballast
