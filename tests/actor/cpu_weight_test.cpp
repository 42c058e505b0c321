// cpu_weight on a fixture cgroup root, through a registry: the test plays the
// sched source, sending a batch each (simulated) second in which two hogs
// take a CPU each and a ping-pong beside them waits in the run queue, and
// reads the cpu.weight the policy makes the cgroup actors write, and put
// back.
#include "actors/cgroups/registry.hpp"
#include "actors/policies/policy.hpp"
#include "tests/actor/actor_fixture.hpp"
#include "tests/actor/sched_feed.hpp"

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

const std::vector<std::string> hogs = {"/g/hog1", "/g/hog2"};

class CpuWeightTest : public ActorTest {
protected:
  CpuWeightTest() {
    tree.make_cgroup("/");
    for (auto path : {"/g", "/g/hog1", "/g/hog2", "/g/pp"}) {
      tree.make_cgroup(path);
      tree.write(std::string(path) + "/cpu.weight", "100\n");
    }
    config::agent cfg;
    cfg.policies = {group_policy(
        "weights", "cpu_weight", "/g/*",
        R"({"protect": ["/g/pp"], "target_ms": 4, "release_ms": 2, "calm": 2, "hold": "3s",
                               "min": 20})")};
    reg = spawn_registry(*sys, cfg, ctx);
    caf::anon_send(reg, atom::scan_v);
  }

  // One second of the group: each hog ran 0.95 s, the ping-pong 0.15 s with
  // 4,000 waits of 20 µs, `slow` of them of 8 ms (once stopped, nothing).
  void second(uint64_t slow) {
    ++seconds;
    sched_batch b{1, 1'000'000'000, {}};
    for (auto &h : hogs)
      b.samples.push_back(
          sched_second(tree.inode(h), seconds * 950'000'000, runq_waits(500, 8'000'000)));
    if (!pingpong_stopped)
      pingpong_ns += 150'000'000;
    auto waits = pingpong_stopped ? runq_waits(0, 0)
                                  : runq_waits(slow, 8'000'000, runq_waits(4000 - slow, 20'000));
    b.samples.push_back(sched_second(tree.inode("/g/pp"), pingpong_ns, waits));
    caf::anon_send(reg, std::move(b));
    pass(1s);
  }

  std::string weight(const std::string &path) {
    auto v = tree.read(path + "/cpu.weight");
    return v.substr(0, v.find('\n'));
  }
  bool hogs_at(const std::string &w) { return weight(hogs[0]) == w && weight(hogs[1]) == w; }

  registry_actor reg;
  uint64_t seconds = 0;
  uint64_t pingpong_ns = 0;
  bool pingpong_stopped = false;
};

TEST_F(CpuWeightTest, HalvesTheHogsWhileThePingPongWaitsAndGivesItBackWhenItStops) {
  second(0); // the source's first read: the baseline of on-CPU time
  second(0);
  EXPECT_TRUE(hogs_at("100"));
  second(100); // p99 in the 8 ms slot
  EXPECT_TRUE(eventually([&] { return hogs_at("50"); })) << weight(hogs[0]);
  second(100);
  second(100);
  second(100);
  EXPECT_TRUE(hogs_at("20")) << "never under min: " << weight(hogs[0]);
  EXPECT_EQ(weight("/g/pp"), "100") << "the one that waits is not demoted";
  EXPECT_EQ(
      metric("ballast_policy_measured", {{"policy", "weights"}, {"cgroup", "/g/pp"}}),
      metric("ballast_cgroup_runq_delay_seconds", {{"cgroup", "/g/pp"}, {"quantile", "0.99"}}));
  // Calm but both still run: the wait is low because of the demotion.
  for (int i = 0; i < 6; ++i)
    second(0);
  EXPECT_TRUE(hogs_at("20")) << "held while the contention lasts: " << weight(hogs[0]);
  // The ping-pong stops: two intervals to count, the hold (3 s since the
  // last step down) past, then doubled per interval and let go at 100: the
  // kernel's own.
  pingpong_stopped = true;
  for (int i = 0; i < 6 && !hogs_at("40"); ++i)
    second(0);
  EXPECT_TRUE(hogs_at("40")) << weight(hogs[0]);
  second(0);
  EXPECT_TRUE(hogs_at("80"));
  second(0);
  EXPECT_TRUE(hogs_at("100"));
  EXPECT_GE(
      metric("ballast_policy_decisions_total", {{"policy", "weights"}, {"action", "give_back"}}),
      2);
}

TEST_F(CpuWeightTest, EveryWeightIsPutBackWhenTheAgentStops) {
  second(0);
  second(100);
  ASSERT_TRUE(eventually([&] { return hogs_at("50"); }));
  request(reg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
  EXPECT_TRUE(hogs_at("100"));
  EXPECT_EQ(open_journal_claims(), 0u);
}

TEST_F(CpuWeightTest, WithoutTheSchedSourceNothingIsDemoted) {
  pass(10s);
  EXPECT_TRUE(hogs_at("100"));
}

TEST(CpuWeightParams, ErrorsNameTheField) {
  auto all = param_errors("cpu_weight",
                          R"({"target_ms": 2, "release_ms": 3, "min": 100, "max": 50,
                                            "hold": "soon", "protect": ["web"]})");
  for (auto field : {"params.release_ms", "params.min", "params.hold", "params.protect"})
    EXPECT_NE(all.find(field), std::string::npos) << field << " in\n" << all;
}

} // namespace
} // namespace ballast::test
