// Every actor is supervised: a cgroup actor that dies puts its knobs back
// and the registry starts a new one whose processes enrol again; a policy
// that dies is restarted with a backoff and parked after five failures in a
// row, until the config changes.
#include "actors/cgroups/cgroup_actor.hpp"
#include "actors/cgroups/registry.hpp"
#include "tests/actor/actor_fixture.hpp"

#include <mutex>

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

class SupervisionTest : public ActorTest {
protected:
  SupervisionTest() {
    ctx->policy_spawned = [this](const std::string &, const caf::actor &p) {
      std::lock_guard guard{mutex_};
      spawned_.push_back(p);
    };
  }
  size_t spawned() {
    std::lock_guard guard{mutex_};
    return spawned_.size();
  }
  caf::actor last_spawned() {
    std::lock_guard guard{mutex_};
    return spawned_.back();
  }
  caf::actor find(const registry_actor &reg, const std::string &path) {
    caf::actor out;
    request(reg, atom::find_v, path)
        .receive([&](caf::actor &a) { out = std::move(a); }, [](caf::error &) {});
    return out;
  }

private:
  std::mutex mutex_;
  std::vector<caf::actor> spawned_;
};

TEST_F(SupervisionTest, AKilledCgroupActorRestoresItsKnobsAndIsReplaced) {
  tree.make_cgroup("/");
  auto pid = start_sleeper();
  tree.make_cgroup("/a", std::to_string(pid) + "\n");
  tree.write("/a/cpu.weight", "100\n");
  config::agent cfg;
  cfg.policies = {telemetry_for_sleep()};
  auto reg = spawn_registry(*sys, cfg, ctx);
  caf::anon_send(reg, atom::scan_v);
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  auto old = find(reg, "/a");
  ASSERT_TRUE(old);
  auto holder = claimant(caf::actor_cast<cgroup_actor>(old), "cpu.weight", "50");
  ASSERT_EQ(tree.read("/a/cpu.weight"), "50");

  caf::anon_send_exit(old, caf::exit_reason::kill);
  EXPECT_TRUE(eventually([&] { return tree.read("/a/cpu.weight") == "100"; }));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_knob_restores_total", {{"reason", "actor_failed"}}) == 1;
  }));
  EXPECT_TRUE(eventually([&] { return open_journal_claims() == 0u; }))
      << "the restore closes its journal entry";
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_actor_restarts_total", {{"type", "cgroup"}}) == 1;
  }));
  EXPECT_TRUE(eventually([&] {
    auto now = find(reg, "/a");
    return now && now != old;
  }));
  EXPECT_TRUE(eventually([&] { return metric("ballast_actors", {{"type", "cgroup"}}) == 2; }));
  // Its process enrolled again with the new actor (the old one's policy ended).
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  EXPECT_TRUE(eventually([&] {
    return status_of(caf::actor_cast<cgroup_actor>(find(reg, "/a"))).policies.size() == 1;
  }));
  caf::anon_send_exit(holder, caf::exit_reason::kill);
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

TEST_F(SupervisionTest, AFailingPolicyIsRestartedWithBackoffThenParkedUntilTheConfigChanges) {
  tree.make_cgroup("/app");
  auto pid = start_sleeper();
  cgroup_spec spec{"/app", tree.inode("/app"), {telemetry_for_sleep()}, false};
  auto cg = spawn_cgroup_actor(*sys, spec, ctx);
  caf::anon_send(cg, cgroup_members{{pid}, monotonic_ns()});
  ASSERT_TRUE(eventually([&] { return spawned() == 1; }));
  for (size_t failure = 1; failure <= 5; ++failure) {
    auto started = now();
    caf::anon_send_exit(last_spawned(), caf::exit_reason::kill);
    if (failure == 5)
      break;
    ASSERT_TRUE(eventually([&] { return spawned() == failure + 1; })) << "failure " << failure;
    // The backoff doubles from 100 ms: 100, 200, 400, 800.
    EXPECT_GE(now() - started, 100ms * (1 << (failure - 1)));
    EXPECT_TRUE(eventually([&] {
      return metric("ballast_actor_restarts_total", {{"type", "policy"}}) == failure;
    }));
  }
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policies_parked", {{"policy", "telemetry"}}) == 1;
  }));
  pass(1500ms);
  EXPECT_EQ(spawned(), 5u) << "a parked policy is not started again";
  EXPECT_EQ(metric("ballast_policy_actors", {{"policy", "telemetry"}}), 0);
  EXPECT_TRUE(status_of(cg).policies.empty());

  caf::anon_send(cg, atom::reload_v, std::vector<config::policy>{telemetry_for_sleep()});
  EXPECT_TRUE(eventually([&] { return spawned() == 6; })) << "a new config gives it a new chance";
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policies_parked", {{"policy", "telemetry"}}) == 0;
  }));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  request(cg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
}

// Release is a reset: the claims go, and every policy of the cgroup starts
// again as a fresh actor that claims from its first step.
TEST_F(SupervisionTest, AReleaseStartsTheCgroupsPoliciesAfresh) {
  tree.make_cgroup("/app");
  tree.write("/app/cpu.weight", "100\n");
  auto pid = start_sleeper();
  cgroup_spec spec{"/app", tree.inode("/app"), {telemetry_for_sleep()}, false};
  auto cg = spawn_cgroup_actor(*sys, spec, ctx);
  caf::anon_send(cg, cgroup_members{{pid}, monotonic_ns()});
  ASSERT_TRUE(eventually([&] { return spawned() == 1; }));
  auto first = last_spawned();
  auto holder = claimant(cg, "cpu.weight", "50");
  request(cg, atom::release_v, atom::all_v)
      .receive([](uint64_t n) { EXPECT_EQ(n, 1u); }, [](caf::error &) { FAIL(); });
  EXPECT_EQ(tree.read("/app/cpu.weight"), "100");
  EXPECT_TRUE(eventually([&] { return spawned() == 2 && last_spawned() != first; }));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  caf::anon_send_exit(holder, caf::exit_reason::kill);
  request(cg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
}

} // namespace

} // namespace ballast::test
