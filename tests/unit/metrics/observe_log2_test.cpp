// The kernel's log2 slots into the Prometheus histogram's buckets: a slot
// [2^i, 2^(i+1)) ns lands in the first bucket whose bound holds all of it,
// so a bucket never counts a wait longer than its bound.
#include "actors/metrics/sched_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace ballast::test {
namespace {

// Cumulative bucket counts after observing one slot `n` times.
std::vector<uint64_t> observed(size_t slot, uint64_t n) {
  prometheus::Histogram h(log2_buckets());
  std::array<uint64_t, log2_histogram::slots> counts{};
  counts[slot] = n;
  observe_log2(h, log2_histogram(counts));
  std::vector<uint64_t> cumulative;
  for (auto &b : h.Collect().histogram.bucket)
    cumulative.push_back(b.cumulative_count);
  return cumulative;
}

TEST(ObserveLog2, BoundsArePowersOfFourFromAMicrosecondToASecond) {
  auto &b = log2_buckets();
  ASSERT_EQ(b.size(), 11u);
  EXPECT_DOUBLE_EQ(b.front(), std::ldexp(1.0, 10) / 1e9);
  EXPECT_DOUBLE_EQ(b.back(), std::ldexp(1.0, 30) / 1e9);
}

TEST(ObserveLog2, ASlotGoesToTheFirstBucketThatHoldsAllOfIt) {
  EXPECT_EQ(observed(0, 3)[0], 3u) << "up to 2 ns: the first bucket";
  EXPECT_EQ(observed(9, 1)[0], 1u) << "[512, 1024) ns: bound 1024 ns";
  auto s10 = observed(10, 1); // [1024, 2048) ns: not within 1024, within 4096
  EXPECT_EQ(s10[0], 0u);
  EXPECT_EQ(s10[1], 1u);
  auto s11 = observed(11, 1); // [2048, 4096) ns: within 4096
  EXPECT_EQ(s11[1], 1u);
  auto s29 = observed(29, 2); // [0.54, 1.07) s: the last bound, 2^30 ns
  EXPECT_EQ(s29[9], 0u);
  EXPECT_EQ(s29[10], 2u);
  auto s30 = observed(30, 1); // past the last bound: +Inf only
  EXPECT_EQ(s30[10], 0u);
  EXPECT_EQ(s30.back(), 1u);
}

TEST(ObserveLog2, TheSumUsesEachSlotsMiddle) {
  prometheus::Histogram h(log2_buckets());
  std::array<uint64_t, log2_histogram::slots> counts{};
  counts[20] = 4; // [1.05, 2.10) ms
  observe_log2(h, log2_histogram(counts));
  auto m = h.Collect().histogram;
  EXPECT_EQ(m.sample_count, 4u);
  EXPECT_DOUBLE_EQ(m.sample_sum, 4 * std::ldexp(1.5, 20) / 1e9);
}

} // namespace
} // namespace ballast::test
