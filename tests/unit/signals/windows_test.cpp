// The signal windows on recorded series: EWMA half-life in time, quantiles
// of the last N samples and of log2 histograms (deltas of kernel counters),
// bursts against a baseline that does not chase them.
#include "actors/signals/burst_detector.hpp"
#include "actors/signals/ewma.hpp"
#include "actors/signals/log2_histogram.hpp"
#include "actors/signals/sample_window.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ballast {
namespace {

using namespace std::chrono_literals;
using time_point = ewma::clock::time_point;

time_point at(std::chrono::milliseconds t) {
  return time_point(t);
}

TEST(Ewma, AStepIsHalfwayAfterOneHalfLifeWhateverTheSampleSpacing) {
  for (auto step : {100ms, 1000ms, 2500ms}) {
    ewma e(10s);
    e.observe(at(0ms), 0);
    double v = 0;
    for (auto t = step; t <= 10s; t += step)
      v = e.observe(at(t), 100);
    EXPECT_NEAR(v, 50, 1e-9) << "samples every " << step.count() << " ms";
  }
}

TEST(Ewma, TheFirstSampleIsTheAverageAndTimeNeverGoesBack) {
  ewma e(1s);
  EXPECT_FALSE(e.value());
  EXPECT_EQ(e.observe(at(5s), 7), 7);
  EXPECT_EQ(e.observe(at(4s), 100), 7) << "a sample from the past weighs nothing";
  EXPECT_NEAR(e.observe(at(6s), 9), 8, 1e-9);
}

TEST(SampleWindow, QuantilesOfTheLastNInterpolateBetweenRanks) {
  sample_window w(4);
  EXPECT_FALSE(w.quantile(0.5));
  for (double x : {4, 1, 3, 2})
    w.add(x);
  EXPECT_DOUBLE_EQ(*w.quantile(0.5), 2.5);
  EXPECT_DOUBLE_EQ(*w.quantile(0), 1);
  EXPECT_DOUBLE_EQ(*w.quantile(1), 4);
  w.add(100); // the oldest (4) goes
  EXPECT_EQ(w.size(), 4u);
  EXPECT_DOUBLE_EQ(*w.quantile(1), 100);
  EXPECT_DOUBLE_EQ(*w.quantile(0.5), 2.5);
}

TEST(Log2Histogram, SlotsAreWhatTheBpfSideComputes) {
  EXPECT_EQ(log2_histogram::slot_of(0), 0u);
  EXPECT_EQ(log2_histogram::slot_of(1), 0u);
  EXPECT_EQ(log2_histogram::slot_of(2), 1u);
  EXPECT_EQ(log2_histogram::slot_of(3), 1u);
  EXPECT_EQ(log2_histogram::slot_of(1024), 10u);
  EXPECT_EQ(log2_histogram::slot_of(UINT64_MAX), 63u);
}

// Run-queue delays in us of one interval, read as two cumulative snapshots.
TEST(Log2Histogram, TheQuantilesOfAnIntervalComeFromTheDifferenceOfTwoReads) {
  log2_histogram before, after;
  for (int i = 0; i < 1000; ++i)
    before.add(40); // earlier intervals, all in [32, 64)
  after = before;
  for (int i = 0; i < 90; ++i)
    after.add(10); // this interval: 90 in [8, 16), 10 in [1024, 2048)
  for (int i = 0; i < 10; ++i)
    after.add(1500);
  auto interval = after.since(before);
  EXPECT_EQ(interval.total(), 100u);
  EXPECT_NEAR(*interval.quantile(0.5), 8 + 8 * (50.0 / 90), 1e-9);
  EXPECT_NEAR(*interval.quantile(0.99), 1024 + 1024 * 0.9, 1e-9);
  EXPECT_FALSE(log2_histogram{}.quantile(0.5));
  // A read that dipped (it raced the kernel moving counts between maps)
  // adds nothing, and the larger read is kept: the regrowth is not counted
  // again.
  log2_histogram dipped = before;
  dipped.add(10, 60);
  EXPECT_EQ(dipped.since(after).total(), 0u);
  auto kept = dipped.at_least(after);
  after.add(10, 5);
  EXPECT_EQ(after.since(kept).total(), 5u);
}

// Futex wait per second of a service (ms): calm, a 5 s burst, calm again.
TEST(BurstDetector, ABurstStartsAfterMSamplesAboveKTimesTheBaselineAndEndsBelowIt) {
  std::vector<double> series = {10, 12, 9,  11, 10, 30, 10, 11, 40,
                                45, 50, 48, 44, 12, 10, 11, 9,  10};
  burst_detector d({.k = 2, .m = 3, .half_life = 10s});
  std::vector<bool> got;
  for (size_t i = 0; i < series.size(); ++i)
    got.push_back(d.observe(at(std::chrono::seconds(i)), series[i]));
  std::vector<bool> want = {false, false, false, false, false, false, false, false, false,
                            false, true,  true,  true,  false, false, false, false, false};
  EXPECT_EQ(got, want) << "one spike (30) is no burst; 40..44 is, from its third sample";
  EXPECT_EQ(d.bursts(), 1u);
}

TEST(BurstDetector, ALongBurstDoesNotBecomeItsOwnBaseline) {
  burst_detector d({.k = 2, .m = 2, .half_life = 5s});
  for (int i = 0; i < 10; ++i)
    d.observe(at(std::chrono::seconds(i)), 10);
  bool held = true;
  for (int i = 10; i < 200; ++i)
    held = d.observe(at(std::chrono::seconds(i)), 100) || i < 11;
  EXPECT_TRUE(held) << "190 s at 10x is still a burst";
  EXPECT_FALSE(d.observe(at(200s), 10));
}

} // namespace
} // namespace ballast
