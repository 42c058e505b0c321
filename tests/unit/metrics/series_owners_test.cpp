#include "actors/metrics/agent_metrics.hpp"
#include "tests/support/metrics_probe.hpp"

#include <gtest/gtest.h>

namespace ballast::test {
namespace {

const prometheus::Labels labels = {
    {"policy", "telemetry"}, {"cgroup", "/app"}, {"pid", "7"}, {"comm", "sleep"}};

std::optional<double> rss(agent_metrics &m) {
  return metric_value(m.registry(), "ballast_process_resident_bytes",
                      {labels.begin(), labels.end()});
}

// A policy started afresh while its predecessor is still ending holds the
// same labels: prometheus-cpp gives both the same object, so the first to
// go must not remove it under the other (it did, and the other wrote into
// freed memory).
TEST(SeriesOwners, ASharedSeriesGoesWithItsLastOwner) {
  agent_metrics m;
  auto &first = m.add_series(m.process_rss(), labels);
  auto &second = m.add_series(m.process_rss(), labels);
  ASSERT_EQ(&first, &second);
  m.remove_series(m.process_rss(), &first);
  second.Set(42);
  EXPECT_EQ(rss(m), 42);
  m.remove_series(m.process_rss(), &second);
  EXPECT_FALSE(rss(m).has_value());
}

} // namespace
} // namespace ballast::test
