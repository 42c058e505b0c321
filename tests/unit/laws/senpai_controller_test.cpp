// senpai's control law on recorded stall series: probe steps, backoff steps,
// their bounds, the limit bounds, and a step response on a simulated
// workload whose stall rises once the limit is below its working set.
#include "actors/laws/senpai_controller.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace ballast {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t MiB = 1ull << 20;

senpai_settings defaults() {
  senpai_settings s;
  s.interval = 6s;
  s.limit_min = 64 * MiB;
  s.limit_max = 4096 * MiB;
  return s;
}

TEST(SenpaiController, NoStallProbesDownByAtMostMaxProbe) {
  senpai_controller c(defaults());
  auto out = c.step(0, 6s, 1000 * MiB, 1000 * MiB);
  EXPECT_DOUBLE_EQ(out.adjustment, -0.01);
  EXPECT_NEAR(double(out.limit), 1000 * MiB * 0.99, 1);
}

TEST(SenpaiController, ProbeIsProportionalToTheGapBelowTarget) {
  auto s = defaults();
  s.coeff_probe = 0.01; // small enough not to hit max_probe
  senpai_controller c(s);
  auto half = c.step(5'000, 6s, 1000 * MiB, 1000 * MiB); // half the 10 ms target
  auto none = c.step(0, 6s, 1000 * MiB, 1000 * MiB);
  EXPECT_NEAR(half.adjustment, -0.005, 1e-9);
  EXPECT_NEAR(none.adjustment, -0.01, 1e-9);
}

TEST(SenpaiController, StallAboveTargetBacksOffBoundedByMaxBackoff) {
  senpai_controller c(defaults());
  auto small = c.step(10'250, 6s, 500 * MiB, 500 * MiB); // 2.5 % over: 20 * 0.025 = 0.5
  EXPECT_NEAR(small.adjustment, 0.5, 1e-9);
  auto big = c.step(1'000'000, 6s, 500 * MiB, 500 * MiB);
  EXPECT_DOUBLE_EQ(big.adjustment, 1.0);
  EXPECT_EQ(big.limit, 1000 * MiB);
}

TEST(SenpaiController, StallIsNormalisedToTheInterval) {
  senpai_controller c(defaults());
  // 10 ms in 3 s is 20 ms per 6 s interval: above target.
  EXPECT_GT(c.step(10'000, 3s, 500 * MiB, 500 * MiB).adjustment, 0);
  EXPECT_NEAR(c.step(10'000, 3s, 500 * MiB, 500 * MiB).stall_us, 20'000, 1e-6);
}

TEST(SenpaiController, AnUnlimitedCgroupIsProbedFromItsUsage) {
  senpai_controller c(defaults());
  auto out = c.step(0, 6s, 800 * MiB, std::numeric_limits<uint64_t>::max());
  EXPECT_NEAR(double(out.limit), 800 * MiB * 0.99, 1);
}

TEST(SenpaiController, LimitStaysWithinBounds) {
  senpai_controller c(defaults());
  EXPECT_EQ(c.step(0, 6s, 60 * MiB, 65 * MiB).limit, 64 * MiB);
  EXPECT_EQ(c.step(10'000'000, 6s, 4000 * MiB, 4000 * MiB).limit, 4096 * MiB);
  EXPECT_EQ(c.step(10'000'000, 6s, 1, std::numeric_limits<uint64_t>::max()).limit, 4096 * MiB);
}

TEST(SenpaiController, AStallSetsAProbeFloorForFloorHoldSteps) {
  senpai_controller c(defaults());
  EXPECT_EQ(c.floor_level(), 0u);
  c.step(1'000'000, 6s, 500 * MiB, 500 * MiB); // stalled at 500 MiB
  const auto floor = uint64_t(500 * MiB * 1.01);
  EXPECT_EQ(c.floor_level(), floor);
  // Backed off to 600 MiB, probing from the 500 MiB in use would go to 495;
  // it stops at the floor ten times...
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(c.step(0, 6s, 500 * MiB, 600 * MiB).limit, floor) << i;
  // ... then the floor is gone and the probe goes on.
  EXPECT_EQ(c.floor_level(), 0u);
  EXPECT_NEAR(double(c.step(0, 6s, 500 * MiB, 600 * MiB).limit), 500 * MiB * 0.99, 1);
}

// A workload with a 300 MiB working set whose stall grows with the deficit
// (1.5 ms per interval per MiB under it). From 1 GiB, senpai comes down and
// then holds the limit around the working set: over the last 200 intervals
// the median limit is within 20 % above it and it never goes far below, and
// once the floor is learned it stalls in at most one step in ten.
TEST(SenpaiController, StepResponseSettlesAboveTheWorkingSet) {
  senpai_controller c(defaults());
  const uint64_t wss = 300 * MiB;
  uint64_t limit = 1024 * MiB;
  std::vector<uint64_t> settled;
  int stalled = 0;
  for (int i = 0; i < 600; ++i) {
    uint64_t stall = limit >= wss ? 0 : (wss - limit) * 1500 / MiB;
    limit = c.step(stall, 6s, std::min(limit, wss + 100 * MiB), limit).limit;
    if (i >= 400) {
      settled.push_back(limit);
      stalled += stall > 0;
    }
  }
  std::sort(settled.begin(), settled.end());
  EXPECT_LE(stalled, 20);
  EXPECT_GE(settled.front(), wss * 95 / 100);
  EXPECT_LE(settled[settled.size() / 2], wss * 120 / 100);
}

} // namespace
} // namespace ballast
