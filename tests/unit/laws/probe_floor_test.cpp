// The probe floor both memory.high laws share: set by a stall, it holds
// decreases one step above the level that stalled for `hold` steps, never
// turns a decrease into a raise, and expires.
#include "actors/laws/probe_floor.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace ballast {
namespace {

TEST(ProbeFloor, NothingLearnedNothingHeld) {
  probe_floor f(10);
  EXPECT_EQ(f.level(), 0u);
  EXPECT_EQ(f.lower_to(90, 100), 90u);
}

TEST(ProbeFloor, AStallHoldsDecreasesOneStepAboveForHoldSteps) {
  probe_floor f(3);
  f.stalled(1000, 0.05);
  EXPECT_EQ(f.level(), 1050u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(f.lower_to(950, 2000), 1050u) << i;
  EXPECT_EQ(f.level(), 0u);
  EXPECT_EQ(f.lower_to(950, 2000), 950u);
}

TEST(ProbeFloor, ADecreaseNeverBecomesARaise) {
  probe_floor f(3);
  f.stalled(1000, 0.05);
  EXPECT_EQ(f.lower_to(950, 1020), 1020u);  // holds where it is, below the floor
  EXPECT_EQ(f.lower_to(1100, 1200), 1100u); // above the floor: the decrease stands
}

TEST(ProbeFloor, ALaterStallMovesTheFloorAndRestartsTheHold) {
  probe_floor f(2);
  f.stalled(1000, 0.1);
  f.lower_to(0, 5000);
  f.stalled(2000, 0.1);
  EXPECT_EQ(f.level(), 2200u);
  EXPECT_EQ(f.lower_to(0, 5000), 2200u);
  EXPECT_EQ(f.lower_to(0, 5000), 2200u);
  EXPECT_EQ(f.lower_to(0, 5000), 0u);
}

TEST(ProbeFloor, HoldZeroIsOff) {
  probe_floor f(0);
  f.stalled(1000, 0.05);
  EXPECT_EQ(f.level(), 0u);
  EXPECT_EQ(f.lower_to(10, 1000), 10u);
}

TEST(ProbeFloor, AnUnlimitedBaseSaturates) {
  probe_floor f(1);
  f.stalled(std::numeric_limits<uint64_t>::max(), 0.5);
  EXPECT_EQ(f.level(), std::numeric_limits<uint64_t>::max());
}

} // namespace
} // namespace ballast
