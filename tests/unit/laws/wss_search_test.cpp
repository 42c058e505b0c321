// The working-set search on a simulated workload.
#include "actors/laws/wss_search.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

constexpr uint64_t MiB = 1ull << 20;

// Stall appears once the limit is under the working set.
uint64_t estimate_for(uint64_t wss, uint64_t usage, wss_settings s = {}) {
  wss_search search(s);
  uint64_t limit = search.start(usage);
  for (int i = 0; i < 1000; ++i) {
    auto next = search.step(limit < wss ? 20'000 : 0);
    if (!next)
      break;
    limit = *next;
  }
  EXPECT_TRUE(search.done());
  return search.estimate().value_or(0);
}

TEST(WssSearch, EstimateIsTheLowestLimitWithoutPressure) {
  for (uint64_t wss : {64 * MiB, 200 * MiB, 1000 * MiB}) {
    auto e = estimate_for(wss, 3 * wss);
    EXPECT_GE(e, wss);
    EXPECT_LE(e, wss * 106 / 100) << wss;
  }
}

TEST(WssSearch, StopsAtTheFloor) {
  wss_settings s;
  s.floor = 32 * MiB;
  EXPECT_EQ(estimate_for(1 * MiB, 100 * MiB, s), 32 * MiB);
}

TEST(WssSearch, PressureAtOnceMeansTheUsageIsTheWorkingSet) {
  EXPECT_EQ(estimate_for(500 * MiB, 500 * MiB), 500 * MiB);
}

} // namespace
} // namespace ballast
