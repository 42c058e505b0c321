// The registry on a fixture root: the start scan, watch globs, mkdir/rmdir
// events, process moves between cgroups, lost events, reload.
#include "actors/cgroups/registry.hpp"
#include "tests/actor/actor_fixture.hpp"

#include <algorithm>

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

class RegistryTest : public ActorTest {
protected:
  registry_actor spawn(config::agent cfg) { return spawn_registry(*sys, std::move(cfg), ctx); }

  std::vector<cgroup_status> list(const registry_actor &reg) {
    std::vector<cgroup_status> out;
    request(reg, atom::list_v)
        .receive([&](std::vector<cgroup_status> &all) { out = std::move(all); },
                 [&](caf::error &e) { ADD_FAILURE() << sys->render(e); });
    std::sort(out.begin(), out.end(), [](auto &a, auto &b) { return a.path < b.path; });
    return out;
  }

  std::vector<std::string> paths(const registry_actor &reg) {
    std::vector<std::string> out;
    for (auto &s : list(reg))
      out.push_back(s.path);
    return out;
  }

  static config::agent watching(std::vector<std::string> include,
                                std::vector<config::policy> ps = {}) {
    config::agent cfg;
    cfg.watch_include = std::move(include);
    cfg.policies = std::move(ps);
    return cfg;
  }

  cgroup_event event(event_kind k, const std::string &path, int32_t pid = 0) {
    return {k, pid, 0, tree.inode(path), monotonic_ns(), "sleep", path};
  }
};

TEST_F(RegistryTest, ScanStartsOneActorPerWatchedCgroup) {
  tree.make_cgroup("/");
  tree.make_cgroup("/a");
  tree.make_cgroup("/a/b");
  tree.make_cgroup("/c");
  auto reg = spawn(watching({"/a/**"}));
  caf::anon_send(reg, atom::scan_v);
  EXPECT_TRUE(eventually([&] { return paths(reg) == std::vector<std::string>{"/a", "/a/b"}; }));
  EXPECT_EQ(metric("ballast_actors", {{"type", "cgroup"}}), 2);
}

TEST_F(RegistryTest, ScanEnrolsProcessesThatAlreadyExisted) {
  tree.make_cgroup("/");
  auto pid = start_sleeper();
  tree.make_cgroup("/a", std::to_string(pid) + "\n");
  auto reg = spawn(watching({"/**"}, {telemetry_for_sleep()}));
  caf::anon_send(reg, atom::scan_v);
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
}

TEST_F(RegistryTest, MkdirAndRmdirStartAndStopActors) {
  tree.make_cgroup("/");
  auto reg = spawn(watching({"/**"}));
  caf::anon_send(reg, atom::scan_v);
  tree.make_cgroup("/new");
  caf::anon_send(reg, event_batch{{event(event_kind::cgroup_mkdir, "/new")}});
  EXPECT_TRUE(eventually([&] { return paths(reg) == std::vector<std::string>{"/", "/new"}; }));
  auto rmdir = event(event_kind::cgroup_rmdir, "/new");
  tree.remove("/new");
  caf::anon_send(reg, event_batch{{rmdir}});
  EXPECT_TRUE(eventually([&] { return paths(reg) == std::vector<std::string>{"/"}; }));
  EXPECT_TRUE(eventually([&] { return metric("ballast_actors", {{"type", "cgroup"}}) == 1; }));
  EXPECT_EQ(metric("ballast_cgroup_events_total", {{"kind", "cgroup_mkdir"}}), 1);
}

TEST_F(RegistryTest, AProcessMovingBetweenCgroupsEndsItsPolicyInTheOldOne) {
  tree.make_cgroup("/");
  tree.make_cgroup("/a");
  tree.make_cgroup("/b");
  auto p = telemetry_for_sleep();
  p.select.cgroups = {"/a"};
  auto reg = spawn(watching({"/**"}, {p}));
  caf::anon_send(reg, atom::scan_v);
  auto pid = start_sleeper();
  caf::anon_send(reg, event_batch{{event(event_kind::attach, "/a", pid)}});
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  caf::anon_send(reg, event_batch{{event(event_kind::attach, "/b", pid)}});
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 0;
  }));
  auto all = list(reg);
  EXPECT_EQ(all[2].path, "/b");
  EXPECT_EQ(all[2].pids, std::vector<int32_t>{pid});
  EXPECT_TRUE(all[1].pids.empty());
}

TEST_F(RegistryTest, EventsForUnwatchedCgroupsAreCountedAndIgnored) {
  tree.make_cgroup("/");
  tree.make_cgroup("/other");
  auto reg = spawn(watching({"/watched/**"}));
  caf::anon_send(reg, atom::scan_v);
  caf::anon_send(reg, event_batch{{event(event_kind::attach, "/other", 1)}});
  EXPECT_TRUE(eventually([&] { return metric("ballast_unwatched_events_total") == 1; }));
  EXPECT_TRUE(list(reg).empty());
}

TEST_F(RegistryTest, LostEventsTriggerARescanThatFindsWhatWasMissed) {
  tree.make_cgroup("/");
  auto reg = spawn(watching({"/**"}));
  caf::anon_send(reg, atom::scan_v);
  tree.make_cgroup("/missed"); // its mkdir record was dropped
  caf::anon_send(reg, events_lost{3});
  EXPECT_TRUE(eventually([&] { return paths(reg) == std::vector<std::string>{"/", "/missed"}; }));
  EXPECT_EQ(metric("ballast_events_lost_total"), 3);
  EXPECT_EQ(metric("ballast_rescans_total"), 2);
}

TEST_F(RegistryTest, ReloadStopsWhatIsNoLongerWatchedAndStartsWhatIs) {
  tree.make_cgroup("/");
  tree.make_cgroup("/a");
  tree.make_cgroup("/b");
  auto reg = spawn(watching({"/a"}));
  caf::anon_send(reg, atom::scan_v);
  ASSERT_TRUE(eventually([&] { return paths(reg) == std::vector<std::string>{"/a"}; }));
  caf::anon_send(reg, atom::reload_v, watching({"/b"}));
  EXPECT_TRUE(eventually([&] { return paths(reg) == std::vector<std::string>{"/b"}; }));
}

TEST_F(RegistryTest, ReloadEndsPoliciesThatWereUnconfigured) {
  tree.make_cgroup("/");
  auto pid = start_sleeper();
  tree.make_cgroup("/a", std::to_string(pid) + "\n");
  auto reg = spawn(watching({"/**"}, {telemetry_for_sleep()}));
  caf::anon_send(reg, atom::scan_v);
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  caf::anon_send(reg, atom::reload_v, watching({"/**"}));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 0;
  }));
}

TEST_F(RegistryTest, StopRepliesOnceEveryCgroupActorIsDone) {
  tree.make_cgroup("/");
  tree.make_cgroup("/a");
  auto reg = spawn(watching({"/**"}));
  caf::anon_send(reg, atom::scan_v);
  ASSERT_TRUE(eventually([&] { return list(reg).size() == 2; }));
  bool done = false;
  request(reg, atom::stop_v).receive([&](atom::done) { done = true; }, [](caf::error &) {});
  EXPECT_TRUE(done);
  EXPECT_TRUE(eventually([&] { return metric("ballast_actors", {{"type", "cgroup"}}) == 0; }));
}

} // namespace

} // namespace ballast::test
