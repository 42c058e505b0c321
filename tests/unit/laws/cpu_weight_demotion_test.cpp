// cpu_weight's law on recorded series of 1 s intervals of a group: two CPU
// hogs (ids 1, 2) and a ping-pong (id 3) whose run-queue p99 the hogs
// raise. Heavy and light members, halving down to the floor, the band,
// holding while the contention lasts, the calm count, the hold, the
// give-back to the ceiling and the doubled hold after a relapse.
#include "actors/laws/cpu_weight_demotion.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ballast {
namespace {

using namespace std::chrono_literals;
using weights = std::map<uint64_t, uint32_t>;

cpu_weight_settings settings() {
  cpu_weight_settings s;
  s.target_s = 0.004;
  s.release_s = 0.002;
  s.calm = 2;
  s.hold = 3s;
  s.min = 10;
  s.max = 100;
  return s;
}

// The group in one interval where the ping-pong waits `p99_ms`; at 0 it
// has stopped (no waits).
std::vector<weight_reading> group(double p99_ms) {
  uint64_t waits = p99_ms > 0 ? 4000 : 0;
  return {{1, 0.95, 0.008, 500}, {2, 0.9, 0.008, 500}, {3, 0.15, p99_ms / 1e3, waits}};
}

struct series {
  cpu_weight_demotion law{settings()};
  cpu_weight_demotion::clock::time_point t{};

  // The weights after each interval of the ping-pong's p99s (ms).
  std::vector<weights> run(const std::vector<double> &p99_ms) {
    std::vector<weights> out;
    for (double p : p99_ms) {
      t += 1s;
      out.push_back(law.step(group(p), t));
    }
    return out;
  }
};

weights both(uint32_t w) {
  return {{1, w}, {2, w}};
}

TEST(CpuWeightDemotion, HalvesTheHeavyMembersWhileALightOneWaitsAndStopsAtTheFloor) {
  series s;
  EXPECT_EQ(s.run({1, 8, 8, 8, 8, 8}),
            (std::vector<weights>{{}, both(50), both(25), both(12), both(10), both(10)}));
  EXPECT_DOUBLE_EQ(s.law.worst_wait(), 0.008) << "the light member's, not the hogs' own waits";
}

TEST(CpuWeightDemotion, HoldsInTheBandAndGivesBackAfterTheCalmCountAndTheHold) {
  series s;
  // Down twice at t=1,2 s; 3 ms is in the band (held, and it breaks the
  // calm run); the ping-pong stops: two calm intervals (t=4,5), the hold
  // (3 s since t=2) is past: doubled each calm interval after, and let go
  // at the ceiling.
  EXPECT_EQ(s.run({8, 8, 3, 0, 0, 0, 0}),
            (std::vector<weights>{both(50), both(25), both(25), both(25), both(50), weights{},
                                  weights{}}));
}

TEST(CpuWeightDemotion, NoStepUpBeforeTheHoldHasPassedSinceTheLastStepDown) {
  series s;
  // Calm from t=2 but demoted at t=1 with a 3 s hold... and again at t=6.
  auto w = s.run({8, 0, 0, 0, 0, 8, 0, 0, 0, 0});
  EXPECT_EQ(w[2], both(50)) << "calm count reached, hold not yet";
  EXPECT_EQ(w[3], weights{}) << "t=4: 3 s after the step down, let go at the ceiling";
  EXPECT_EQ(w[5], both(50));
  EXPECT_EQ(w[8], both(50)) << "t=9: only 3 s... the hold was doubled by the relapse at t=6";
}

TEST(CpuWeightDemotion, ARelapseSoonAfterAStepUpDoublesTheHoldUpToEightTimes) {
  cpu_weight_settings st = settings();
  st.calm = 1;
  st.hold = 2s;
  cpu_weight_demotion law(st);
  cpu_weight_demotion::clock::time_point t{};
  auto at = [&](int s, double p99_ms) {
    return law.step(group(p99_ms), t + std::chrono::seconds(s));
  };
  EXPECT_EQ(at(0, 8), both(50));
  EXPECT_EQ(at(2, 0), weights{}) << "hold 2 s: given back";
  EXPECT_EQ(at(3, 8), both(50)) << "the wait came back 1 s after: hold now 4 s";
  EXPECT_EQ(at(6, 0), both(50));
  EXPECT_EQ(at(7, 0), weights{});
  EXPECT_EQ(at(8, 8), both(50)) << "hold now 8 s";
  EXPECT_EQ(at(15, 0), both(50));
  EXPECT_EQ(at(16, 0), weights{});
}

TEST(CpuWeightDemotion, HoldsWhileBothSidesStillRunHoweverLowTheWait) {
  series s;
  // The demotion works: the ping-pong's wait falls to 1 ms while the hogs
  // still spin. Nothing is given back until one side stops: here the hogs.
  auto w = s.run({8, 1, 1, 1, 1, 1, 1, 1, 1});
  EXPECT_EQ(w.back(), both(50)) << "8 s calm, hold 3 s: the contention still lasts";
  std::vector<weight_reading> quiet = {{1, 0.02, 0, 0}, {2, 0.02, 0, 0}, {3, 0.6, 0.001, 4000}};
  std::vector<weights> after;
  for (int i = 0; i < 3; ++i) {
    s.t += 1s;
    after.push_back(s.law.step(quiet, s.t));
  }
  EXPECT_EQ(after, (std::vector<weights>{both(50), weights{}, weights{}}))
      << "the hogs stopped: given back after the calm count";
}

TEST(CpuWeightDemotion, ADemotedMemberStaysHeavyAndItsOwnWaitAndAFewWaitsDoNotCount) {
  series s;
  s.run({8});
  // Demoted, the hogs take less than the ping-pong, and wait long: they are
  // still the heavy ones (their share counts what they took before), their
  // wait is the policy's doing, and the ping-pong's p99 of 9 waits says
  // nothing.
  std::vector<weight_reading> g = {{1, 0.3, 0.05, 500}, {2, 0.3, 0.05, 500}, {3, 0.6, 0.009, 9}};
  s.t += 1s;
  EXPECT_EQ(s.law.step(g, s.t), both(50)) << "held: nothing suffers that counts";
  g[2].waits = 4000; // the ping-pong still waits: the hogs go further down, not it
  s.t += 1s;
  EXPECT_EQ(s.law.step(g, s.t), both(25));
}

TEST(CpuWeightDemotion, AMemberThatLeftIsForgotten) {
  series s;
  s.run({8});
  s.law.forget(2);
  EXPECT_EQ(s.law.weights(), both(50)) << "until the next step";
  s.t += 1s;
  EXPECT_EQ(s.law.step({{1, 0.9, 0.008, 500}, {3, 0.2, 0.009, 4000}}, s.t), (weights{{1, 25}}));
}

TEST(CpuWeightDemotion, NothingIsHeavyUnderTheMinimumCores) {
  cpu_weight_demotion law(settings());
  EXPECT_EQ(law.step({{1, 0.05, 0, 0}, {3, 0.01, 0.009, 100}}, {}), weights{});
  EXPECT_DOUBLE_EQ(law.worst_wait(), 0.009);
}

TEST(CpuWeightDemotion, WithProtectedMembersEveryOtherOneTakingCpuIsACandidate) {
  cpu_weight_demotion law(settings());
  // The ping-pong takes as much CPU as a hog (as under an emulator): named
  // protected, it is never demoted and its wait is what counts; the third,
  // nearly idle, is left alone.
  std::vector<weight_reading> g = {{1, 0.7, 0.008, 500, false},
                                   {2, 0.7, 0.008, 500, false},
                                   {3, 0.7, 0.009, 4000, true},
                                   {4, 0.05, 0.009, 100, false}};
  EXPECT_EQ(law.step(g, {}), both(50));
  EXPECT_DOUBLE_EQ(law.worst_wait(), 0.009);
}

} // namespace
} // namespace ballast
