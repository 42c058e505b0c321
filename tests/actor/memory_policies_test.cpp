// Memory policies on a fixture cgroup root: the test plays the kernel by
// writing memory.current and memory.pressure, and checks the knobs the
// policies make the cgroup actor write, and put back.
#include "actors/cgroups/cgroup_actor.hpp"
#include "actors/cgroups/registry.hpp"
#include "actors/policies/policy.hpp"
#include "sys/procfs.hpp"
#include "tests/actor/actor_fixture.hpp"

#include <mutex>

#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <thread>

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

constexpr uint64_t MiB = 1ull << 20;

class MemoryPolicyTest : public ActorTest {
protected:
  explicit MemoryPolicyTest(scheduling s = scheduling::deterministic) : ActorTest(s) {}
  registry_actor floor_over_two();
  // A cgroup with the memory files a policy reads, its usage at `usage`.
  void memory_cgroup(const std::string &path, uint64_t usage) {
    tree.make_cgroup(path);
    tree.write(path + "/memory.high", "max\n");
    tree.write(path + "/memory.min", "0\n");
    tree.write(path + "/memory.swap.max", "max\n");
    tree.write(path + "/memory.stat", "anon 0\nfile " + std::to_string(usage) + "\n");
    tree.write(path + "/cgroup.freeze", "0\n");
    tree.write(path + "/cgroup.kill", "");
    tree.write(path + "/memory.reclaim", "");
    set_usage(path, usage);
    stall(path, 0);
  }
  void set_usage(const std::string &path, uint64_t bytes) {
    tree.write(path + "/memory.current", std::to_string(bytes) + "\n");
  }
  void stall(const std::string &path, uint64_t total_us) {
    tree.write(path + "/memory.pressure",
               "some avg10=0.00 avg60=0.00 avg300=0.00 total=" + std::to_string(total_us) +
                   "\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  }
  // memory.high in bytes (max and a file caught mid-write count as max).
  uint64_t high(const std::string &path) {
    auto h = knob(path, "memory.high");
    return h.empty() || h == "max" ? std::numeric_limits<uint64_t>::max() : std::stoull(h);
  }
  std::string knob(const std::string &path, const std::string &file) {
    auto v = tree.read(path + "/" + file);
    while (!v.empty() && v.back() == '\n')
      v.pop_back();
    return v;
  }
  static config::policy policy(std::string name, std::string type, std::string params,
                               std::vector<std::string> cgroups = {"/**"}) {
    config::policy p;
    p.name = std::move(name);
    p.type = std::move(type);
    p.interval = 20ms;
    p.select.cgroups = std::move(cgroups);
    p.params = std::move(params);
    auto errors = compile_policy(p);
    EXPECT_TRUE(errors.empty()) << errors[0].to_string();
    return p;
  }
  cgroup_actor spawn(const std::string &path, std::vector<config::policy> ps,
                     bool dry_run = false) {
    return spawn_cgroup_actor(*sys, {path, tree.inode(path), std::move(ps), dry_run}, ctx);
  }
  void stop(const cgroup_actor &cg) {
    request(cg, atom::stop_v)
        .receive([](atom::done) {}, [](caf::error &e) { ADD_FAILURE() << to_string(e); });
  }
};

TEST_F(MemoryPolicyTest, BudgetWalksTheLadderUpAndBackDown) {
  memory_cgroup("/b", 10 * MiB);
  auto cg = spawn("/b", {policy("budget", "budget",
                                R"({"trace": "20M", "throttle": "40M", "throttle_high": "100M",
                                    "freeze": "60M", "kill": "80M", "cooldown": "50ms"})")});
  set_usage("/b", 90 * MiB);
  EXPECT_TRUE(eventually([&] { return knob("/b", "memory.high") == std::to_string(100 * MiB); }));
  EXPECT_TRUE(eventually([&] { return knob("/b", "cgroup.freeze") == "1"; }));
  EXPECT_TRUE(eventually([&] { return knob("/b", "cgroup.kill") == "1"; }));
  EXPECT_EQ(metric("ballast_policy_level", {{"policy", "budget"}, {"cgroup", "/b"}}), 4);
  set_usage("/b", 1 * MiB); // the kill freed the memory
  EXPECT_TRUE(eventually([&] { return knob("/b", "cgroup.freeze") == "0"; }));
  EXPECT_TRUE(eventually([&] { return knob("/b", "memory.high") == "max"; }));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policy_level", {{"policy", "budget"}, {"cgroup", "/b"}}) == 0;
  }));
  EXPECT_GE(metric("ballast_policy_decisions_total", {{"policy", "budget"}, {"action", "down_ok"}}),
            1);
  stop(cg);
}

// kill_mode "largest": the member with the largest resident set (statm) is
// killed, not the cgroup. The members are real sleepers, so the kill is real.
TEST_F(MemoryPolicyTest, BudgetKillsTheLargestMemberWhereAsked) {
  temp_tree proc;
  ctx->proc = sys::procfs(proc.root());
  auto small = start_sleeper(), large = start_sleeper();
  proc.write("/" + std::to_string(small) + "/statm", "1000 10 0 0 0 0 0\n");
  proc.write("/" + std::to_string(large) + "/statm", "1000 500 0 0 0 0 0\n");
  memory_cgroup("/b", 10 * MiB);
  tree.write("/b/cgroup.procs", std::to_string(small) + "\n" + std::to_string(large) + "\n");
  auto cg = spawn(
      "/b", {policy("budget", "budget",
                    R"({"trace": "20M", "throttle": "40M", "throttle_high": "100M", "freeze": "60M",
                                    "kill": "80M", "kill_mode": "largest", "cooldown": "50ms"})")});
  set_usage("/b", 90 * MiB);
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_policy_level", {{"policy", "budget"}, {"cgroup", "/b"}}) == 4;
  }));
  // SIGKILL is the kernel's to deliver: wait for it in real time.
  auto dead = [](pid_t pid) {
    auto stat = sys::read_small_file("/proc/" + std::to_string(pid) + "/stat");
    return !stat || stat->find(") Z ") != std::string::npos;
  };
  for (int i = 0; i < 400 && !dead(large); ++i)
    std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(dead(large));
  EXPECT_FALSE(dead(small));
  EXPECT_NE(knob("/b", "cgroup.kill"), "1");
  stop(cg);
}

TEST_F(MemoryPolicyTest, BudgetSkipsThrottleWhereNothingCanBeReclaimed) {
  memory_cgroup("/b", 10 * MiB);
  tree.write("/b/memory.swap.max", "0\n");                    // no swap for this cgroup...
  tree.write("/b/memory.stat", "anon 50000000\nfile 1000\n"); // ...and all anonymous
  auto cg = spawn("/b", {policy("budget", "budget",
                                R"({"throttle": "20M", "freeze": "40M", "cooldown": "50ms"})")});
  set_usage("/b", 50 * MiB);
  EXPECT_TRUE(eventually([&] { return knob("/b", "cgroup.freeze") == "1"; }));
  EXPECT_EQ(knob("/b", "memory.high"), "max");
  EXPECT_GE(metric("ballast_policy_refusals_total",
                   {{"policy", "budget"}, {"reason", "not_reclaimable"}}),
            1);
  stop(cg);
  EXPECT_EQ(knob("/b", "cgroup.freeze"), "0");
}

TEST_F(MemoryPolicyTest, BudgetInDryRunDecidesButWritesNothing) {
  memory_cgroup("/b", 10 * MiB);
  auto cg = spawn(
      "/b",
      {policy("budget", "budget", R"({"throttle": "20M", "freeze": "40M", "cooldown": "20ms"})")},
      true);
  set_usage("/b", 50 * MiB);
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policy_level", {{"policy", "budget"}, {"cgroup", "/b"}}) == 3;
  }));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_knob_writes_total", {{"mode", "dry_run"}}) >= 2;
  }));
  EXPECT_EQ(knob("/b", "cgroup.freeze"), "0");
  EXPECT_EQ(knob("/b", "memory.high"), "max");
  stop(cg);
}

TEST_F(MemoryPolicyTest, SenpaiLowersMemoryHighWithoutStallAndBacksOffWithIt) {
  memory_cgroup("/s", 100 * MiB);
  auto cg = spawn("/s", {policy("senpai", "senpai", R"({"max_probe": 0.05, "limit_min": "10M"})")});
  EXPECT_TRUE(eventually([&] { return high("/s") < 100 * MiB; }));
  // It reclaims what it takes away first, so the memory.high write is cheap.
  EXPECT_FALSE(knob("/s", "memory.reclaim").empty());
  auto low = high("/s");
  set_usage("/s", low);
  stall("/s", 10'000'000); // 10 s of stall: back off
  EXPECT_TRUE(eventually(
      [&] { return high("/s") > low && high("/s") != std::numeric_limits<uint64_t>::max(); }));
  EXPECT_GE(metric("ballast_policy_decisions_total", {{"policy", "senpai"}, {"action", "raise"}}),
            1);
  stop(cg);
  EXPECT_EQ(knob("/s", "memory.high"), "max");
}

// Real threads: the knob writer's, blocked in the kernel.
class StalledWriteTest : public MemoryPolicyTest {
protected:
  StalledWriteTest() : MemoryPolicyTest(scheduling::threaded) {}
};

// A write that stalls in the kernel (here: memory.reclaim is a FIFO nobody
// reads, so opening it blocks, as a reclaim under pressure would) runs on
// the knob writer: its cgroup actor and every other one keep answering.
TEST_F(StalledWriteTest, AWriteStalledInTheKernelStallsNoActor) {
  memory_cgroup("/slow", 0);
  memory_cgroup("/fast", 0);
  tree.write("/fast/cpu.weight", "100\n");
  tree.remove("/slow/memory.reclaim");
  ASSERT_EQ(::mkfifo(tree.path("/slow/memory.reclaim").c_str(), 0600), 0);
  auto slow = spawn("/slow", {});
  auto fast = spawn("/fast", {});
  caf::scoped_actor self{*sys};
  auto pending =
      self->request(slow, caf::infinite, action_request{"memory.reclaim", "4096", "test"});
  std::this_thread::sleep_for(100ms); // the writer is now blocked in open(2)
  auto t0 = std::chrono::steady_clock::now();
  request(slow, atom::status_v)
      .receive([](cgroup_status &) {},
               [](caf::error &e) {
                 ADD_FAILURE() << "the stalled cgroup's actor did not answer: " << to_string(e);
               });
  request(fast, claim_request{"cpu.weight", "50", 0, "test"})
      .receive([](claim_reply &) {}, [](caf::error &e) { ADD_FAILURE() << to_string(e); });
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
  EXPECT_EQ(knob("/fast", "cpu.weight"), "50");
  // Unblock the write: the action completes and is answered.
  int reader = ::open(tree.path("/slow/memory.reclaim").c_str(), O_RDONLY | O_NONBLOCK);
  bool done = false;
  pending.receive([&](bool performed) { done = performed; },
                  [](caf::error &e) { ADD_FAILURE() << to_string(e); });
  EXPECT_TRUE(done);
  ::close(reader);
  stop(slow);
  stop(fast);
}

TEST_F(MemoryPolicyTest, MemoryFloorIsSplitOverMembersAndAgainWhenOneLeaves) {
  tree.make_cgroup("/");
  for (auto m : {"/g1", "/g2", "/g3"})
    memory_cgroup(m, 0);
  config::agent cfg;
  cfg.policies = {policy("floor", "memory_floor", R"({"floor": "90M"})", {"/g*"})};
  auto reg = spawn_registry(*sys, cfg, ctx);
  caf::anon_send(reg, atom::scan_v);
  for (auto m : {"/g1", "/g2", "/g3"})
    EXPECT_TRUE(eventually([&] { return knob(m, "memory.min") == std::to_string(30 * MiB); })) << m;
  tree.remove("/g3");
  caf::anon_send(reg,
                 event_batch{{{event_kind::cgroup_rmdir, 0, 0, 0, monotonic_ns(), "", "/g3"}}});
  caf::anon_send(reg, atom::scan_v); // the rmdir's id is gone with the fixture dir: rescan
  for (auto m : {"/g1", "/g2"})
    EXPECT_TRUE(eventually([&] { return knob(m, "memory.min") == std::to_string(45 * MiB); })) << m;
  request(reg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
  EXPECT_EQ(knob("/g1", "memory.min"), "0");
}

// A 90M memory_floor over /g1 and /g2 (45M each once split), on a registry.
registry_actor MemoryPolicyTest::floor_over_two() {
  tree.make_cgroup("/");
  for (auto m : {"/g1", "/g2"})
    memory_cgroup(m, 0);
  config::agent cfg;
  cfg.policies = {policy("floor", "memory_floor", R"({"floor": "90M"})", {"/g*"})};
  auto reg = spawn_registry(*sys, cfg, ctx);
  caf::anon_send(reg, atom::scan_v);
  return reg;
}

// An operator's release puts the knob back, and the group policy, told its
// member anew, claims it again from a known state.
TEST_F(MemoryPolicyTest, AReleasedMemberOfTheFloorIsClaimedAgain) {
  auto reg = floor_over_two();
  ASSERT_TRUE(eventually([&] { return knob("/g1", "memory.min") == std::to_string(45 * MiB); }));
  uint64_t released = 0;
  request(reg, atom::release_v, std::string("/g1"))
      .receive([&](uint64_t n) { released = n; },
               [&](caf::error &e) { ADD_FAILURE() << sys->render(e); });
  EXPECT_EQ(released, 1u);
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_knob_restores_total", {{"reason", "released"}}) == 1;
  }));
  EXPECT_TRUE(eventually([&] { return knob("/g1", "memory.min") == std::to_string(45 * MiB); }));
  request(reg, atom::release_v, std::string("/nope"))
      .receive(
          [](uint64_t) { ADD_FAILURE() << "an unwatched cgroup was released"; },
          [&](caf::error &e) { EXPECT_NE(sys->render(e).find("not watched"), std::string::npos); });
  request(reg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
}

// A group policy that fails lets go of its claims (each cgroup actor
// monitors it) and the registry starts it again after a backoff.
TEST_F(MemoryPolicyTest, AFailedGroupPolicyIsRestartedAndClaimsAgain) {
  std::mutex mutex;
  std::vector<caf::actor> floors;
  ctx->policy_spawned = [&](const std::string &name, const caf::actor &a) {
    std::lock_guard guard{mutex};
    if (name == "floor")
      floors.push_back(a);
  };
  auto spawned = [&] {
    std::lock_guard guard{mutex};
    return floors.size();
  };
  auto reg = floor_over_two();
  ASSERT_TRUE(eventually([&] { return knob("/g1", "memory.min") == std::to_string(45 * MiB); }));
  ASSERT_EQ(spawned(), 1u);
  caf::anon_send_exit(floors.front(), caf::exit_reason::kill);
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_knob_restores_total", {{"reason", "policy_failed"}}) == 2;
  }));
  EXPECT_TRUE(eventually([&] { return spawned() == 2; }));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_actor_restarts_total", {{"type", "policy"}}) == 1;
  }));
  for (auto m : {"/g1", "/g2"})
    EXPECT_TRUE(eventually([&] { return knob(m, "memory.min") == std::to_string(45 * MiB); })) << m;
  request(reg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
  ctx->policy_spawned = nullptr;
}

} // namespace
} // namespace ballast::test
