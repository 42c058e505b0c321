// cpu_backoff on a fixture cgroup root and /proc: the test plays the kernel
// by growing the stall totals of a protected cgroup, of the host's memory
// and of the root cgroup's CPU each (simulated) second, and reads the
// cpu.max the policy makes the cgroup actor write, and put back.
#include "actors/cgroups/cgroup_actor.hpp"
#include "actors/policies/policy.hpp"
#include "sys/procfs.hpp"
#include "tests/actor/actor_fixture.hpp"

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

class CpuBackoffTest : public ActorTest {
protected:
  CpuBackoffTest() {
    ctx->proc = sys::procfs(proc.root());
    tree.make_cgroup("/batch");
    tree.make_cgroup("/other");
    tree.write("/batch/cpu.max", "max 100000\n");
    grow(0, 0, 0);
    cg = spawn_cgroup_actor(*sys, {"/batch", tree.inode("/batch"), {policy()}, false}, ctx);
    pass(1s); // the first step reads the totals it starts from
  }

  static config::policy policy() {
    config::policy p;
    p.name = "backoff";
    p.type = "cpu_backoff";
    p.interval = 1s;
    p.select.cgroups = {"/batch"};
    // "/" holds /batch: left out (its pressure counts /batch's throttling).
    p.params = R"({"protect": ["/other", "/"], "threshold": 20, "release": 5, "calm": 2,
                   "step": 0.5, "min": 0.5, "max": 2})";
    auto errors = compile_policy(p);
    EXPECT_TRUE(errors.empty()) << errors[0].to_string();
    return p;
  }

  static std::string psi(uint64_t total_us) {
    return "some avg10=0.00 avg60=0.00 avg300=0.00 total=" + std::to_string(total_us) +
           "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
  }

  // One more second of the kernel: /other's CPU stall, the host's memory
  // stall and the root cgroup's CPU stall grow by these (µs).
  void grow(uint64_t other_cpu, uint64_t host_memory, uint64_t root_cpu) {
    other_us += other_cpu;
    memory_us += host_memory;
    root_us += root_cpu;
    tree.write("/other/cpu.pressure", psi(other_us));
    proc.write("/pressure/memory", psi(memory_us));
    tree.write("/cpu.pressure", psi(root_us));
  }
  void second(uint64_t other_cpu, uint64_t host_memory = 0, uint64_t root_cpu = 0) {
    grow(other_cpu, host_memory, root_cpu);
    pass(1s);
  }

  std::string cpu_max() {
    auto v = tree.read("/batch/cpu.max");
    while (!v.empty() && v.back() == '\n')
      v.pop_back();
    return v;
  }

  ~CpuBackoffTest() override { stop_if_running(cg); }

  temp_tree proc;
  cgroup_actor cg;
  uint64_t other_us = 0, memory_us = 0, root_us = 0;
};

TEST_F(CpuBackoffTest, StepsTheQuotaDownUnderPressureAndGivesItBackWhenCalm) {
  second(300'000); // /other waited for CPU 30% of the second
  EXPECT_EQ(cpu_max(), "150000 100000");
  second(0, 250'000); // memory pressure counts too
  EXPECT_EQ(cpu_max(), "100000 100000");
  second(100'000); // 10%: between release and threshold, held
  EXPECT_EQ(cpu_max(), "100000 100000");
  second(0);
  EXPECT_EQ(cpu_max(), "100000 100000"); // one calm second: not yet
  second(0);
  EXPECT_EQ(cpu_max(), "150000 100000");
  second(0);
  EXPECT_EQ(cpu_max(), "max 100000"); // at the ceiling: its own value back
  EXPECT_GE(metric("ballast_policy_decisions_total", {{"policy", "backoff"}, {"action", "lift"}}),
            1);
}

// Throttled tasks are CPU stall to the kernel, in every ancestor's
// cpu.pressure up to the host's: a cgroup holding /batch is not protected,
// or the policy's own throttling would read as pressure and take it down to
// its floor.
TEST_F(CpuBackoffTest, ItsOwnThrottlingIsNotPressure) {
  second(300'000);
  EXPECT_EQ(cpu_max(), "150000 100000");
  for (int i = 0; i < 5; ++i)
    second(30'000, 0, 900'000); // the root's CPU stall is mostly /batch throttled
  EXPECT_EQ(cpu_max(), "max 100000");
}

TEST_F(CpuBackoffTest, TheQuotaIsPutBackWhenTheCgroupActorStops) {
  second(900'000);
  second(900'000);
  second(900'000);
  second(900'000);
  EXPECT_EQ(cpu_max(), "50000 100000"); // never under min
  request(cg, atom::stop_v)
      .receive([](atom::done) {}, [](caf::error &e) { FAIL() << to_string(e); });
  EXPECT_EQ(cpu_max(), "max 100000");
}

} // namespace
} // namespace ballast::test
