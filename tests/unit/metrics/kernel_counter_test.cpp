#include "actors/metrics/kernel_counter.hpp"

#include "tests/support/metrics_probe.hpp"

#include <gtest/gtest.h>

namespace ballast::test {
namespace {

class KernelCounter : public ::testing::Test {
protected:
  // Samples a kernel total of `ns` nanoseconds; returns the growth counted.
  uint64_t sample(uint64_t ns) {
    return counter_.advance(&metrics_, metrics_.sched().cpu_busy, {{"cpu", "0"}}, ns, 1e-9);
  }

  double exported() {
    return metric_value(metrics_.registry(), "ballast_cpu_busy_seconds_total", {{"cpu", "0"}})
        .value_or(-1);
  }

  agent_metrics metrics_;
  kernel_counter counter_;
};

TEST_F(KernelCounter, TheFirstSampleAddsTheWholeTotalAndLaterOnesTheGrowth) {
  EXPECT_EQ(sample(3'000'000'000), 3'000'000'000u);
  EXPECT_EQ(sample(3'500'000'000), 500'000'000u);
  EXPECT_DOUBLE_EQ(exported(), 3.5);
}

// The sched source credits a running slice by the wall clock and counts it,
// once ended, by the scheduler's clock: the total may dip. Following the dip
// down would count the regrowth twice.
TEST_F(KernelCounter, ADipIsHeldNotCountedTwice) {
  sample(1'000'000'000);
  EXPECT_EQ(sample(940'000'000), 0u);
  EXPECT_EQ(sample(1'500'000'000), 500'000'000u);
  EXPECT_DOUBLE_EQ(exported(), 1.5);
}

TEST_F(KernelCounter, ARestartedCountIsCountedFromZero) {
  sample(2'000'000'000);
  counter_.restart();
  EXPECT_EQ(sample(250'000'000), 250'000'000u);
  EXPECT_DOUBLE_EQ(exported(), 2.25);
}

} // namespace
} // namespace ballast::test
