// Policy params: sizes, bounds and errors that name the field, through
// check_config as the agent runs it.
#include "actors/policies/policy.hpp"
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace ballast {
namespace {

std::vector<std::string> errors_of(const std::string &type, const std::string &params,
                                   const std::string &select = "") {
  auto r = check_config(R"({"policies": [{"name": "p", "type": ")" + type + R"(", "params": )" +
                        params + (select.empty() ? "" : R"(, "select": )" + select) + "}]}");
  std::vector<std::string> out;
  for (auto &e : r.errors)
    out.push_back(e.to_string());
  return out;
}

TEST(ParseBytes, UnitsAndMax) {
  EXPECT_EQ(config::parse_bytes("4096"), 4096u);
  EXPECT_EQ(config::parse_bytes("64M"), 64u << 20);
  EXPECT_EQ(config::parse_bytes("2G"), 2ull << 30);
  EXPECT_EQ(config::parse_bytes("max"), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(config::parse_bytes("64MB"));
  EXPECT_FALSE(config::parse_bytes("-1"));
  EXPECT_FALSE(config::parse_bytes("99999999999T"));
}

TEST(PolicyParams, DefaultsAreValid) {
  for (auto type : {"senpai", "pi_pressure", "wss_probe"})
    EXPECT_TRUE(errors_of(type, "{}").empty()) << type;
  EXPECT_TRUE(errors_of("budget", R"({"throttle": "1G"})").empty());
  EXPECT_TRUE(errors_of("memory_floor", R"({"floor": "512M"})").empty());
}

TEST(PolicyParams, ErrorsNameTheField) {
  EXPECT_EQ(
      errors_of("senpai", R"({"limit_min": "lots"})"),
      std::vector<std::string>{
          R"(policies[0].params.limit_min: must be a size in bytes like 4096, "64M" or "max")"});
  EXPECT_EQ(errors_of("senpai", R"({"limit_min": "2G", "limit_max": "1G"})"),
            std::vector<std::string>{"policies[0].params.limit_min: must not be above limit_max"});
  EXPECT_EQ(
      errors_of("pi_pressure", R"({"setpoint": 0})"),
      std::vector<std::string>{"policies[0].params.setpoint: must be a number from 0.01 to 100"});
  EXPECT_EQ(errors_of("wss_probe", R"({"stpe": 0.1})"),
            std::vector<std::string>{"policies[0].params.stpe: unknown field"});
  EXPECT_EQ(errors_of("budget", R"({"kill_mode": "all"})"),
            (std::vector<std::string>{
                R"(policies[0].params.kill_mode: must be one of "cgroup", "largest")",
            }));
  EXPECT_EQ(
      errors_of("budget", R"({"throttle": "2G", "freeze": "1G"})"),
      std::vector<std::string>{"policies[0].params.freeze: must not be below the rung before it"});
  EXPECT_EQ(
      errors_of("budget", "{}"),
      std::vector<std::string>{
          "policies[0].params: needs at least one of trace, throttle, freeze, kill, or a file"});
  EXPECT_EQ(
      errors_of("memory_floor", "{}"),
      std::vector<std::string>{R"(policies[0].params.floor: is required: a size like "512M")"});
  EXPECT_EQ(errors_of("senpai", R"({"trigger_stall": "2s", "trigger_window": "1s"})"),
            std::vector<std::string>{
                "policies[0].params.trigger_stall: must not be longer than trigger_window"});
}

// As the agent reads them: every example passes the parser and each
// policy's params check.
TEST(Examples, EveryExampleIsAValidConfig) {
  int examples = 0;
  for (const auto &entry : std::filesystem::directory_iterator(
           std::filesystem::path(BALLAST_SOURCE_DIR) / "config/examples")) {
    if (entry.path().extension() != ".json")
      continue;
    SCOPED_TRACE(entry.path().string());
    const auto r = check_config_file(entry.path().string());
    EXPECT_TRUE(r.errors.empty()) << r.errors.front().to_string();
    EXPECT_TRUE(r.value.has_value());
    ++examples;
  }
  EXPECT_GE(examples, 4);
}

TEST(PolicyParams, CgroupPoliciesAreSelectedByCgroupOnly) {
  EXPECT_EQ(
      errors_of("senpai", "{}", R"({"comm": "java"})"),
      std::vector<std::string>{
          R"(policies[0].select: a senpai policy acts on whole cgroups: select it by "cgroups" only)"});
  EXPECT_TRUE(errors_of("wss_probe", "{}", R"({"comm": "java"})").empty());
}

} // namespace
} // namespace ballast
