// The jobs' response law on series of 1 s steps: who is frozen (lowest
// priority, ties the largest), never a job above max_priority, thawed one
// at a time (highest priority first) after the hold, per-action cooldowns,
// kill before freeze, triggers, IO freeze of the heaviest, demote and
// restore, and what happens to ended jobs and switched-off rules.
#include "actors/laws/job_response.hpp"

#include <gtest/gtest.h>

namespace ballast::laws {
namespace {

using namespace std::chrono_literals;

config::job_response rules() {
  config::job_response c;
  c.max_priority = 50;
  c.hold = 3s;
  c.freeze = {true, "memory.some", 20, 5, 2s};
  c.kill = {false, "memory.full", 60, 0, 10s};
  c.demote = {true, "cpu.some", 50, 10, 2s};
  c.demote_weight = 10;
  c.io_freeze = {true, "io.full", 30, 5, 2s};
  return c;
}

struct series {
  job_response_law law{rules()};
  job_response_law::clock::time_point t{std::chrono::hours(1)};
  std::vector<response_job> jobs;

  // One second later, with this pressure: the actions, applied to jobs.
  std::vector<response_action> step(std::map<std::string, double> share,
                                    std::set<std::string> triggered = {}) {
    t += 1s;
    auto out = law.step(t, {std::move(share), std::move(triggered)}, jobs);
    for (auto &a : out)
      for (auto &j : jobs)
        if (j.id == a.id) {
          if (a.verb == "freeze")
            j.frozen_by = a.rule;
          if (a.verb == "thaw")
            j.frozen_by = "";
          if (a.verb == "kill")
            j.running = false;
          if (a.verb == "demote")
            j.demoted = true;
          if (a.verb == "restore")
            j.demoted = false;
        }
    return out;
  }
  const response_job &job(const std::string &id) {
    for (auto &j : jobs)
      if (j.id == id)
        return j;
    throw std::out_of_range(id);
  }
};

std::string verbs(const std::vector<response_action> &out) {
  std::string s;
  for (auto &a : out)
    s += (s.empty() ? "" : " ") + a.verb + ":" + a.id;
  return s;
}

TEST(JobResponse, FreezesTheLowestPriorityFirstAndTheLargestOfATie) {
  series s;
  s.jobs = {
      {"high", 90, true, 100}, {"a", 10, true, 100}, {"b", 10, true, 300}, {"c", 30, true, 900}};
  auto out = s.step({{"memory.some", 35}});
  ASSERT_EQ(verbs(out), "freeze:b");
  EXPECT_EQ(out[0].reason, "memory.some 35.0 % is above 20.0 %");
  EXPECT_EQ(verbs(s.step({{"memory.some", 35}})), "") << "the freeze cooldown is 2 s";
  EXPECT_EQ(verbs(s.step({{"memory.some", 35}})), "freeze:a");
  EXPECT_EQ(verbs(s.step({{"memory.some", 35}})), "");
  EXPECT_EQ(verbs(s.step({{"memory.some", 35}})), "freeze:c");
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(verbs(s.step({{"memory.some", 90}})), "") << "high is above max_priority";
  EXPECT_EQ(s.job("high").frozen_by, "");
}

TEST(JobResponse, ThawsOneAtATimeHighestPriorityFirstAfterTheHold) {
  series s;
  s.jobs = {{"a", 10, true, 100, 0, "freeze"},
            {"c", 30, true, 100, 0, "freeze"},
            {"op", 5, true, 100, 0, "operator"}};
  EXPECT_EQ(verbs(s.step({{"memory.some", 8}})), "") << "8 % is not below 5 %: hysteresis";
  EXPECT_EQ(verbs(s.step({{"memory.some", 2}})), ""); // calm since now
  EXPECT_EQ(verbs(s.step({{"memory.some", 2}})), "");
  EXPECT_EQ(verbs(s.step({{"memory.some", 2}})), "");
  auto out = s.step({{"memory.some", 2}}); // 3 s calm: the hold
  ASSERT_EQ(verbs(out), "thaw:c");
  EXPECT_EQ(out[0].reason, "memory.some 2.0 % has stayed below 5.0 % for 3000 ms");
  EXPECT_EQ(verbs(s.step({{"memory.some", 2}})), "") << "the thaw cooldown is 2 s";
  EXPECT_EQ(verbs(s.step({{"memory.some", 2}})), "thaw:a");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(verbs(s.step({{"memory.some", 0}})), "") << "an operator's freeze is not ours";
}

TEST(JobResponse, PressureBackDuringTheHoldStartsItAgain) {
  series s;
  s.jobs = {{"a", 10, true, 100, 0, "freeze"}, {"b", 10, true, 50}};
  s.step({{"memory.some", 1}});
  s.step({{"memory.some", 1}});
  EXPECT_EQ(verbs(s.step({{"memory.some", 25}})), "freeze:b");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(verbs(s.step({{"memory.some", 1}})), "");
  EXPECT_EQ(verbs(s.step({{"memory.some", 1}})), "thaw:b") << "equal priority: the smaller first";
}

TEST(JobResponse, AFreezeSoonAfterAThawDoublesTheHold) {
  series s;
  s.jobs = {{"hog", 10, true, 100}};
  auto calm_until_thaw = [&] {
    int steps = 0;
    for (; steps < 100; ++steps)
      if (auto out = s.step({{"memory.some", 0}}); !out.empty())
        return std::pair{steps + 1, out[0].reason};
    return std::pair{-1, std::string()};
  };
  EXPECT_EQ(verbs(s.step({{"memory.some", 50}})), "freeze:hog");
  EXPECT_EQ(calm_until_thaw().first, 4) << "calm since the first calm step, thawed 3 s later";
  EXPECT_EQ(verbs(s.step({{"memory.some", 50}})), "freeze:hog") << "the hog is back at once";
  auto [steps, reason] = calm_until_thaw();
  EXPECT_EQ(steps, 7);
  EXPECT_EQ(reason, "memory.some 0.0 % has stayed below 5.0 % for 6000 ms");
  EXPECT_EQ(verbs(s.step({{"memory.some", 50}})), "freeze:hog");
  EXPECT_EQ(calm_until_thaw().first, 13);
  for (int i = 0; i < 30; ++i)
    s.step({{"memory.some", 0}});
  EXPECT_EQ(verbs(s.step({{"memory.some", 50}})), "freeze:hog");
  EXPECT_EQ(calm_until_thaw().first, 4) << "a freeze after a long calm starts from the hold again";
}

TEST(JobResponse, AFiredTriggerIsPressureAboveTheRule) {
  series s;
  s.jobs = {{"a", 10, true, 100}};
  auto out = s.step({{"memory.some", 3}}, {"freeze"});
  ASSERT_EQ(verbs(out), "freeze:a");
  EXPECT_EQ(out[0].reason, "memory.some trigger: above 20.0 % of its window");
  EXPECT_EQ(s.law.rose(), std::vector<std::string>{"freeze"});
}

TEST(JobResponse, KillComesFirstAndHasItsOwnCooldown) {
  series s;
  auto c = rules();
  c.kill.enabled = true;
  s.law.configure(c);
  s.jobs = {{"a", 10, true, 100, 0, "freeze"}, {"b", 20, true, 500}, {"high", 80, true, 900}};
  ASSERT_EQ(verbs(s.step({{"memory.some", 80}, {"memory.full", 70}})), "kill:a")
      << "the frozen lowest-priority job is killed, nothing frozen in the same step";
  EXPECT_EQ(verbs(s.step({{"memory.some", 80}, {"memory.full", 70}})), "thaw:a freeze:b")
      << "the killed job is let go; freezing was not the kill's cooldown";
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(verbs(s.step({{"memory.some", 80}, {"memory.full", 70}})), "");
  EXPECT_EQ(verbs(s.step({{"memory.some", 80}, {"memory.full", 70}})), "kill:b");
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(verbs(s.step({{"memory.some", 80}, {"memory.full", 70}})).find("high"),
              std::string::npos);
}

TEST(JobResponse, IoFreezeTakesTheHeaviestOfTheLastInterval) {
  series s;
  s.jobs = {{"big", 10, true, 100, 1'000'000'000}, {"busy", 40, true, 100, 0}, {"high", 90, true}};
  EXPECT_EQ(verbs(s.step({{"io.full", 50}})), "") << "no interval seen yet";
  s.jobs[1].io_bytes = 50'000'000; // busy did 50 MB, big nothing new
  s.jobs[2].io_bytes = 900'000'000;
  auto out = s.step({{"io.full", 50}});
  ASSERT_EQ(verbs(out), "freeze:busy");
  EXPECT_EQ(out[0].rule, "io_freeze");
  EXPECT_EQ(out[0].reason,
            "io.full 50.0 % is above 30.0 %; 50000000 bytes of IO in the last interval");
  for (int i = 0; i < 3; ++i)
    s.step({{"io.full", 1}});
  EXPECT_EQ(verbs(s.step({{"io.full", 1}})), "thaw:busy");
}

TEST(JobResponse, DemotesEveryLowJobAndRestoresAfterTheHold) {
  series s;
  s.jobs = {{"a", 10, true}, {"b", 50, true}, {"high", 51, true}};
  EXPECT_EQ(verbs(s.step({{"cpu.some", 70}})), "demote:a demote:b");
  EXPECT_EQ(verbs(s.step({{"cpu.some", 70}})), "");
  s.jobs.push_back({"late", 20, true});
  EXPECT_EQ(verbs(s.step({{"cpu.some", 70}})), "demote:late") << "after the cooldown";
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(verbs(s.step({{"cpu.some", 4}})), "");
  EXPECT_EQ(verbs(s.step({{"cpu.some", 4}})), "restore:a restore:b restore:late");
  EXPECT_FALSE(s.job("high").demoted);
}

TEST(JobResponse, EndedJobsAndSwitchedOffRulesLetGo) {
  series s;
  s.jobs = {{"gone", 10, false, 0, 0, "freeze", true}, {"a", 10, true, 0, 0, "io_freeze"}};
  EXPECT_EQ(verbs(s.step({{"memory.some", 90}})), "thaw:gone restore:gone");
  auto c = rules();
  c.io_freeze.enabled = false;
  s.law.configure(c);
  auto out = s.step({{"io.full", 90}, {"memory.some", 1}});
  EXPECT_EQ(verbs(out), "thaw:a");
  EXPECT_EQ(out[0].reason, "the rule is off");
}

TEST(JobResponse, NoPressureFileMeansNoAction) {
  series s;
  s.jobs = {{"a", 10, true}};
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(verbs(s.step({})), "");
}

} // namespace
} // namespace ballast::laws
