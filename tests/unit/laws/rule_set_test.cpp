// The rules policy's law on recorded series of 1 s intervals: all and any,
// the `for` duration and a break in it, a signal without a value, the end
// at the first interval a rule does not hold, the first rule winning a
// knob two of them set, and steps from the knob's value to their bound.
#include "actors/laws/rule_set.hpp"

#include <gtest/gtest.h>

namespace ballast {
namespace {

using namespace std::chrono_literals;
using values = std::map<std::string, double>;

rule busy() {
  return {"busy",
          false,
          {{"host.cpu.some.avg10", rule_op::gt, 20}, {"cgroup.runq.p99_ms", rule_op::ge, 4}},
          2s,
          {{"cpu.weight", "10"}}};
}

rule big() {
  return {
      "big",
      true,
      {{"cgroup.memory.current", rule_op::gt, 1e9}, {"cgroup.memory.some.avg10", rule_op::gt, 5}},
      0s,
      {{"memory.high", "1000000000"}, {"cpu.weight", "50"}}};
}

struct series {
  rule_set law{{busy(), big()}};
  rule_set::clock::time_point t{};
  const rule_set &at(const values &v) {
    t += 1s;
    law.step(v, t);
    return law;
  }
};

const values loud = {{"host.cpu.some.avg10", 31}, {"cgroup.runq.p99_ms", 6}};

TEST(RuleSet, AllConditionsMustHoldForTheWholeForDuration) {
  series s;
  EXPECT_FALSE(s.at(loud).active(0)) << "held 0 s of 2";
  EXPECT_FALSE(s.at(loud).active(0)) << "held 1 s of 2";
  EXPECT_TRUE(s.at(loud).active(0));
  EXPECT_EQ(s.law.effects().at("cpu.weight").value, "10");
  EXPECT_EQ(s.law.why(0), "host.cpu.some.avg10 31 > 20 and cgroup.runq.p99_ms 6 >= 4");
  EXPECT_FALSE(s.at({{"host.cpu.some.avg10", 31}, {"cgroup.runq.p99_ms", 3}}).active(0))
      << "ends at the first interval one does not hold";
  EXPECT_TRUE(s.law.effects().empty());
}

TEST(RuleSet, ABreakStartsTheForDurationAgain) {
  series s;
  s.at(loud);
  s.at(loud);
  s.at({{"host.cpu.some.avg10", 10}, {"cgroup.runq.p99_ms", 6}});
  s.at(loud);
  EXPECT_FALSE(s.at(loud).active(0));
  EXPECT_TRUE(s.at(loud).active(0));
}

TEST(RuleSet, ASignalWithoutAValueDoesNotHold) {
  series s;
  for (int i = 0; i < 5; ++i)
    s.at({{"host.cpu.some.avg10", 31}}); // the sched source has no p99 for it
  EXPECT_FALSE(s.law.active(0));
  EXPECT_EQ(s.law.why(0), "host.cpu.some.avg10 31 > 20 and cgroup.runq.p99_ms (no value) >= 4");
}

TEST(RuleSet, AnyConditionIsEnoughAndTheFirstRuleWinsAKnob) {
  series s;
  EXPECT_TRUE(s.at({{"cgroup.memory.some.avg10", 8}}).active(1)) << "no for: at once";
  EXPECT_EQ(s.law.effects().at("cpu.weight").value, "50");
  for (int i = 0; i < 3; ++i)
    s.at({{"cgroup.memory.some.avg10", 8}, {"host.cpu.some.avg10", 31}, {"cgroup.runq.p99_ms", 6}});
  auto e = s.law.effects();
  EXPECT_EQ(e.at("cpu.weight").value, "10") << "busy comes first";
  EXPECT_EQ(e.at("cpu.weight").rule, "busy");
  EXPECT_EQ(e.at("memory.high").rule, "big");
}

TEST(RuleSet, AStepMovesTheKnobEachActiveIntervalFromItsValueToItsBoundAndEndsWithTheRule) {
  rule r{"squeeze", false, {{"host.cpu.some.avg10", rule_op::gt, 20}}, 0s, {}};
  r.steps["cpu.weight"] = {-30, 10};
  rule_set law({r});
  rule_set::clock::time_point t{};
  const values knob = {{"cpu.weight", 100}};
  auto at = [&](double avg10, const values &knobs) {
    t += 1s;
    law.step({{"host.cpu.some.avg10", avg10}}, t, knobs);
    auto e = law.effects();
    return e.count("cpu.weight") ? e["cpu.weight"].value : "-";
  };
  EXPECT_EQ(at(5, knob), "-");
  EXPECT_EQ(at(30, knob), "70");
  EXPECT_EQ(at(30, {{"cpu.weight", 70}}), "40") << "from the stepped value, not the file";
  EXPECT_EQ(at(30, {}), "10");
  EXPECT_EQ(at(30, {}), "10") << "never past the bound";
  EXPECT_EQ(at(5, knob), "-") << "the rule ended: given back";
  EXPECT_EQ(at(30, {}), "-") << "no value to start from (a knob at max)";
  EXPECT_EQ(at(30, {{"cpu.weight", 50}}), "20");
}

} // namespace
} // namespace ballast
