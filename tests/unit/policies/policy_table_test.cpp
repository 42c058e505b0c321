// Pure parts of the policy layer: the tick grid, and the table's view of
// config (every row complete, params compiled per type).
#include "actors/policies/policy.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

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

std::string read_text(const std::filesystem::path &file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Every row, whatever the table holds: a name found by find_policy_type, a
// summary, the spawn its scope needs, a compile whose errors name the
// policy's params, and a place in the README's table and the schema's
// examples, so a new policy is documented where users look.
TEST(PolicyTable, EveryRowIsCompleteFoundAndDocumented) {
  auto readme = read_text(std::filesystem::path(BALLAST_SOURCE_DIR) / "README.md");
  auto schema = read_text(std::filesystem::path(BALLAST_SOURCE_DIR) / "config/ballast.schema.json");
  std::set<std::string_view> names;
  for (auto *t : policy_table()) {
    EXPECT_TRUE(names.insert(t->name).second) << t->name << " twice";
    EXPECT_EQ(find_policy_type(t->name), t);
    EXPECT_FALSE(t->summary.empty()) << t->name;
    EXPECT_EQ(t->spawn != nullptr, t->scope != policy_scope::group) << t->name;
    EXPECT_EQ(t->spawn_group != nullptr, t->scope == policy_scope::group) << t->name;
    config::policy p{.name = "p", .type = std::string(t->name)};
    p.params = R"({"no_such_param": 1})";
    auto errors = compile_policy(p, "policies[0]");
    ASSERT_FALSE(errors.empty()) << t->name << " took a parameter it does not have";
    EXPECT_EQ(errors[0].path.rfind("policies[0].params", 0), 0u)
        << t->name << ": " << errors[0].to_string();
    EXPECT_FALSE(p.settings.value) << t->name << ": refused params compile to nothing";
    EXPECT_NE(readme.find("| `" + std::string(t->name) + "` |"), std::string::npos)
        << t->name << " not in README";
    EXPECT_NE(schema.find("\"" + std::string(t->name) + "\""), std::string::npos)
        << t->name << " not in the schema";
  }
  EXPECT_EQ(find_policy_type("nope"), nullptr);
}

TEST(CompilePolicies, AcceptedParamsCompileOnceIntoSettings) {
  auto r = check_config(R"({"policies": [{"name": "t", "type": "telemetry"},
                                          {"name": "s", "type": "senpai", "params": {"max_probe": 0.02}}]})");
  ASSERT_TRUE(r.value);
  for (auto &p : r.value->policies)
    EXPECT_TRUE(p.settings.value) << p.name;
  auto again = *r.value;
  EXPECT_TRUE(compile_policies(again).empty());
  EXPECT_EQ(again, *r.value) << "settings follow from the params: no part of equality";
}

TEST(CheckConfig, TelemetryParamsAreRefusedWithTheirPath) {
  auto r =
      check_config(R"({"policies": [{"name": "t", "type": "telemetry", "params": {"x": 1}}]})");
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
