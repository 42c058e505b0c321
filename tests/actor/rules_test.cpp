// The rules policy on a fixture cgroup root and /proc: the test plays the
// kernel by writing the host's CPU pressure each (simulated) second, and
// reads the knobs the policy makes the cgroup actor write while a rule is
// active, and put back when it ends; dry run writes nothing; bad rules are
// refused with the rule and field named.
#include "actors/cgroups/cgroup_actor.hpp"
#include "actors/policies/policy.hpp"
#include "sys/procfs.hpp"
#include "tests/actor/actor_fixture.hpp"
#include "tests/actor/sched_feed.hpp"

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

constexpr const char *busy_rule = R"({"name": "busy", "for": "2s",
  "all": [{"signal": "host.cpu.some.avg10", "op": ">", "value": 20}],
  "set": {"cpu.weight": 10}})";
constexpr const char *big_rule = R"({"name": "big",
  "any": [{"signal": "cgroup.memory.current", "op": ">=", "value": 1048576},
          {"signal": "cgroup.runq.p99_ms", "op": ">", "value": 4}],
  "set": {"memory.high": "67108864"}})";

class RulesTest : public ActorTest {
protected:
  void start(bool dry_run) {
    ctx->proc = sys::procfs(proc.root());
    tree.make_cgroup("/batch"); // memory.current 8 MiB
    tree.write("/batch/cpu.weight", "100\n");
    tree.write("/batch/memory.high", "max\n");
    host_cpu(0);
    auto p = group_policy("rules", "rules", "/batch",
                          std::string(R"({"dry_run": )") + (dry_run ? "true" : "false") +
                              R"(, "rules": [)" + busy_rule + ", " + big_rule + "]}");
    cg = spawn_cgroup_actor(*sys, {"/batch", tree.inode("/batch"), {p}, false}, ctx);
  }

  void host_cpu(double avg10) {
    proc.write("/pressure/cpu", "some avg10=" + std::to_string(avg10) +
                                    " avg60=0.00 avg300=0.00 total=0\n"
                                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  }

  std::string knob(const std::string &file) {
    auto v = tree.read("/batch/" + file);
    return v.substr(0, v.find('\n'));
  }

  ~RulesTest() override { stop_if_running(cg); }

  temp_tree proc;
  cgroup_actor cg;
};

TEST_F(RulesTest, ARuleSetsItsKnobsWhileItHoldsAndTheyGoBackWhenItEnds) {
  start(false);
  pass(1s);
  EXPECT_EQ(knob("memory.high"), "67108864") << "big holds at once: 8 MiB in use";
  EXPECT_EQ(knob("cpu.weight"), "100");
  host_cpu(31);
  pass(2s);
  EXPECT_EQ(knob("cpu.weight"), "100") << "busy has held 1 s of its 2";
  pass(1s);
  EXPECT_EQ(knob("cpu.weight"), "10");
  host_cpu(12);
  pass(1s);
  EXPECT_TRUE(eventually([&] { return knob("cpu.weight") == "100"; })) << knob("cpu.weight");
  EXPECT_EQ(knob("memory.high"), "67108864");
  EXPECT_EQ(metric("ballast_policy_decisions_total", {{"policy", "rules"}, {"action", "end"}}), 1);
  EXPECT_EQ(metric("ballast_policy_decisions_total", {{"policy", "rules"}, {"action", "fire"}}), 2);
}

TEST_F(RulesTest, DryRunWritesNothing) {
  start(true);
  host_cpu(31);
  pass(5s);
  EXPECT_EQ(knob("cpu.weight"), "100");
  EXPECT_EQ(knob("memory.high"), "max");
  EXPECT_EQ(metric("ballast_policy_decisions_total", {{"policy", "rules"}, {"action", "fire"}}), 2);
}

// A rule on a window of the sched source: the cgroup's block IO p99 over
// 10 ms in the last interval caps its reads on 8:0 until it is not.
TEST_F(RulesTest, ARuleOnTheIoLatencyWindowFiresFromTheSchedSource) {
  ctx->proc = sys::procfs(proc.root());
  tree.make_cgroup("/batch");
  tree.write("/batch/io.max", "");
  auto p = group_policy("rules", "rules", "/batch", R"({"rules": [{"name": "slow-io",
      "all": [{"signal": "cgroup.io.p99_ms", "op": ">", "value": 10}],
      "set": {"io.max:8:0": "rbps=1048576"}}]})");
  cg = spawn_cgroup_actor(*sys, {"/batch", tree.inode("/batch"), {p}, false}, ctx);
  uint64_t second = 0;
  auto io_second = [&](uint64_t ns) {
    ++second;
    auto s = sched_second(tree.inode("/batch"), second * 100'000'000, {});
    s.io = runq_waits(100, ns);
    caf::anon_send(cg, std::move(s));
    pass(1s);
  };
  io_second(1'000'000);
  io_second(1'000'000);
  EXPECT_EQ(knob("io.max"), "") << "1 ms";
  io_second(40'000'000);
  EXPECT_EQ(knob("io.max"), "8:0 rbps=1048576");
  io_second(1'000'000);
  EXPECT_TRUE(eventually([&] {
    return knob("io.max") == "8:0 rbps=max wbps=max riops=max wiops=max";
  })) << knob("io.max");
}

TEST_F(RulesTest, AStepLowersTheKnobEachIntervalAndGivesItBackWhenTheRuleEnds) {
  ctx->proc = sys::procfs(proc.root());
  tree.make_cgroup("/batch");
  tree.write("/batch/cpu.weight", "100\n");
  host_cpu(0);
  auto p = group_policy("rules", "rules", "/batch", R"({"rules": [{"name": "squeeze",
      "all": [{"signal": "host.cpu.some.avg10", "op": ">", "value": 20}],
      "step": {"cpu.weight": {"by": -40, "to": 10}}}]})");
  cg = spawn_cgroup_actor(*sys, {"/batch", tree.inode("/batch"), {p}, false}, ctx);
  pass(1s);
  host_cpu(31);
  pass(1s);
  EXPECT_EQ(knob("cpu.weight"), "60");
  pass(1s);
  EXPECT_EQ(knob("cpu.weight"), "20");
  pass(1s);
  EXPECT_EQ(knob("cpu.weight"), "10");
  host_cpu(0);
  pass(1s);
  EXPECT_TRUE(eventually([&] { return knob("cpu.weight") == "100"; })) << knob("cpu.weight");
}

TEST(RulesParams, ErrorsNameTheRuleAndTheField) {
  auto all = param_errors("rules", R"({"rules": [
      {"name": "a", "for": "soon", "all": [{"signal": "host.cpu.avg10", "op": ">", "value": 1}],
       "set": {"cpu.weight": 0}},
      {"name": "a", "any": [{"signal": "cgroup.cpu.cores", "op": "=", "value": "x"}],
       "set": {"no.such": "1"}},
      {"name": "b", "all": [], "any": [], "set": {}},
      {"name": "notify", "all": [{"signal": "cgroup.io.burst", "op": ">=", "value": 1}]},
      {"name": "c", "all": [{"signal": "cgroup.cpu.cores", "op": ">", "value": 1}],
       "step": {"cpu.max": {"by": 1, "to": 2}, "cpu.weight": {"by": 0, "to": 10},
                "memory.high": {"by": -1048576, "to": -1}}}]})");
  for (auto field :
       {"params.rules[0].for", "params.rules[0].all[0].signal", "params.rules[0].set.cpu.weight",
        "params.rules[1].any[0].op", "params.rules[1].any[0].value", "params.rules[1].set.no.such",
        "params.rules[2].all", "params.rules[2].set", "params.rules[4].step.cpu.max",
        "params.rules[4].step.cpu.weight", "params.rules[4].step.memory.high"})
    EXPECT_NE(all.find(field), std::string::npos) << field << " in\n" << all;
  EXPECT_EQ(all.find("params.rules[3]"), std::string::npos) << "a rule without set notifies";
  EXPECT_NE(param_errors("rules", "{}").find("params.rules: must be a non-empty array"),
            std::string::npos);
}

} // namespace
} // namespace ballast::test
