// cpuset_spread on a fixture cgroup root, through a registry: the test plays
// the sched source, sending a batch each (simulated) second in which hogs
// take a CPU each and wait in the run queue together, and reads the
// cpuset.cpus the policy makes the cgroup actors write, and put back. The
// pool is CPUs 0-1 (params.cpus), online on any host that runs the tests.
#include "actors/cgroups/registry.hpp"
#include "actors/policies/policy.hpp"
#include "tests/actor/actor_fixture.hpp"
#include "tests/actor/sched_feed.hpp"

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

class CpusetSpreadTest : public ActorTest {
protected:
  CpusetSpreadTest() {
    tree.make_cgroup("/");
    for (auto path : {"/g", "/g/hog1", "/g/hog2", "/g/hog3"}) {
      tree.make_cgroup(path);
      tree.write(std::string(path) + "/cpuset.cpus", "\n");
    }
    config::agent cfg;
    cfg.policies = {group_policy("spread", "cpuset_spread", "/g/*",
                                 R"({"cpus": "0-1", "rise": 2, "calm": 2, "hold": "5s"})")};
    reg = spawn_registry(*sys, cfg, ctx);
    caf::anon_send(reg, atom::scan_v);
  }

  // One second in which each of `busy` took 0.95 s of CPU and waited 500
  // times, at 8 ms if `contend`, else at 20 µs; the others did not run.
  void second(const std::vector<std::string> &busy, bool contend) {
    ++seconds;
    sched_batch b{1, 1'000'000'000, {}};
    for (auto &h : busy) {
      oncpu[h] += 950'000'000;
      b.samples.push_back(
          sched_second(tree.inode(h), oncpu[h], runq_waits(500, contend ? 8'000'000 : 20'000)));
    }
    caf::anon_send(reg, std::move(b));
    pass(1s);
  }

  std::string cpus(const std::string &path) {
    auto v = tree.read(path + "/cpuset.cpus");
    return v.substr(0, v.find('\n'));
  }

  registry_actor reg;
  uint64_t seconds = 0;
  std::map<std::string, uint64_t> oncpu;
  const std::vector<std::string> two = {"/g/hog1", "/g/hog2"};
};

TEST_F(CpusetSpreadTest, GivesContendersDisjointCpusAndMergesThemBackOnceCalmAndLight) {
  second(two, false); // the source's first read: the baseline of on-CPU time
  second(two, true);
  EXPECT_EQ(cpus("/g/hog1"), "") << "one interval is not a rise";
  second(two, true);
  EXPECT_TRUE(eventually([&] { return cpus("/g/hog1") == "0"; })) << cpus("/g/hog1");
  EXPECT_EQ(cpus("/g/hog2"), "1");
  EXPECT_EQ(cpus("/g/hog3"), "") << "it did not contend";
  EXPECT_EQ(metric("ballast_policy_cpu_setting", {{"policy", "spread"}, {"cgroup", "/g/hog1"}}), 1);
  // Spread, they still take a CPU each: not calm enough to merge.
  for (int i = 0; i < 8; ++i)
    second(two, false);
  EXPECT_EQ(cpus("/g/hog1"), "0");
  // They stop: two calm intervals, the hold (5 s since the spread) long past.
  second({}, false);
  second({}, false);
  EXPECT_TRUE(eventually([&] { return cpus("/g/hog1").empty() && cpus("/g/hog2").empty(); }))
      << cpus("/g/hog1");
  EXPECT_EQ(metric("ballast_policy_decisions_total", {{"policy", "spread"}, {"action", "merge"}}),
            2);
}

TEST_F(CpusetSpreadTest, RefusesWithMoreContendersThanCpus) {
  std::vector<std::string> three = {"/g/hog1", "/g/hog2", "/g/hog3"};
  second(three, false);
  for (int i = 0; i < 4; ++i)
    second(three, true);
  EXPECT_EQ(cpus("/g/hog1"), "");
  EXPECT_EQ(metric("ballast_policy_refusals_total",
                   {{"policy", "spread"}, {"reason", "fewer_cpus_than_cgroups"}}),
            1)
      << "counted once while the refusal stands";
}

TEST_F(CpusetSpreadTest, EveryCpusetIsPutBackWhenTheAgentStops) {
  second(two, false);
  second(two, true);
  second(two, true);
  ASSERT_TRUE(eventually([&] { return cpus("/g/hog2") == "1"; }));
  request(reg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
  EXPECT_EQ(cpus("/g/hog1"), "");
  EXPECT_EQ(cpus("/g/hog2"), "");
  EXPECT_EQ(open_journal_claims(), 0u);
}

TEST(CpusetSpreadParams, ErrorsNameTheField) {
  auto all = param_errors("cpuset_spread", R"({"cpus": "3-1", "target_ms": 2, "release_ms": 3,
                                               "merge_load": 2, "rise": 0})");
  for (auto field : {"params.cpus", "params.release_ms", "params.merge_load", "params.rise"})
    EXPECT_NE(all.find(field), std::string::npos) << field << " in\n" << all;
}

} // namespace
} // namespace ballast::test
