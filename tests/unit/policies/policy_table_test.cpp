// Pure parts of the policy layer: the tick grid, and the table's view of
// config (types known, params checked per type).
#include "actors/policies/policy.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

using namespace std::chrono_literals;
using time_point = caf::actor_clock::time_point;

time_point at(std::chrono::milliseconds since_epoch) {
  return time_point(std::chrono::duration_cast<time_point::duration>(since_epoch));
}

TEST(NextAlignedTick, IsTheNextMultipleOfTheInterval) {
  EXPECT_EQ(next_aligned_tick(at(1234ms), 1000ms), at(2000ms));
  EXPECT_EQ(next_aligned_tick(at(1999ms), 1000ms), at(2000ms));
  EXPECT_EQ(next_aligned_tick(at(250ms), 100ms), at(300ms));
}

TEST(NextAlignedTick, FromAGridPointIsOneIntervalLater) {
  EXPECT_EQ(next_aligned_tick(at(2000ms), 1000ms), at(3000ms));
}

TEST(NextAlignedTick, ActorsWithTheSameIntervalShareTicks) {
  EXPECT_EQ(next_aligned_tick(at(10'001ms), 5000ms), next_aligned_tick(at(14'999ms), 5000ms));
}

TEST(PolicyTable, ListsTelemetry) {
  EXPECT_NE(find_policy_type("telemetry"), nullptr);
  EXPECT_EQ(find_policy_type("nope"), nullptr);
  EXPECT_EQ(policy_type_names(), (std::vector<std::string>{"telemetry", "senpai", "pi_pressure", "wss_probe", "budget", "memory_floor"}));
}

TEST(CheckConfig, TelemetryParamsAreRefusedWithTheirPath) {
  auto r = check_config(R"({"policies": [{"name": "t", "type": "telemetry", "params": {"x": 1}}]})");
  ASSERT_FALSE(r.value);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "policies[0].params: telemetry takes no parameters");
}

TEST(CheckConfig, TheEmbeddedDefaultIsValid) {
  auto r = check_config(config::default_config_json());
  EXPECT_TRUE(r.value) << (r.errors.empty() ? "" : r.errors[0].to_string());
}

} // namespace
} // namespace ballast
