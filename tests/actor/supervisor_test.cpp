// The supervisor with injected event sources: a source that dies is
// restarted with a growing backoff and counted; a source that cannot start
// at all is fatal; stop replies once everything is stopped.
#include "actors/supervisor/supervisor.hpp"
#include "tests/actor/actor_fixture.hpp"

#include <mutex>

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

// A source that runs for `lives_for` (zero: fails at start), then fails.
source_actor::behavior_type dying_source(source_actor::pointer self,
                                         std::chrono::milliseconds lives_for) {
  if (lives_for == 0ms) {
    self->quit(caf::make_error(caf::sec::runtime_error, "no BPF here"));
    return source_actor::behavior_type::make_empty_behavior();
  }
  self->delayed_send(self, lives_for, atom::failed_v, std::string("poller died"));
  return {
      [=](atom::failed, std::string &why) {
        self->quit(caf::make_error(caf::sec::runtime_error, why));
      },
  };
}

class SupervisorTest : public ActorTest {
protected:
  // Spawns a supervisor whose n-th source lives lifetimes[n] (the last one
  // repeats); records when each source started.
  supervisor_actor spawn(std::vector<std::chrono::milliseconds> lifetimes) {
    tree.make_cgroup("/");
    supervisor_env env{ctx,
                       [this, lifetimes](caf::actor_system &sys, registry_actor reg, uint32_t) {
                         std::lock_guard guard{mutex};
                         registry = reg;
                         auto n = std::min(starts.size(), lifetimes.size() - 1);
                         starts.push_back(now());
                         return sys.spawn(dying_source, lifetimes[n]);
                       },
                       [this](const std::string &why) {
                         std::lock_guard guard{mutex};
                         fatal = why;
                       }};
    return spawn_supervisor(*sys, config::agent{}, env);
  }

  // Stops the supervisor and waits for its reply, so no source is started
  // after the test's members are gone.
  bool stop(const supervisor_actor &sup) {
    bool done = false;
    request(sup, atom::stop_v).receive([&](atom::done) { done = true; }, [](caf::error &) {});
    return done;
  }

  size_t started() {
    std::lock_guard guard{mutex};
    return starts.size();
  }

  std::mutex mutex;
  registry_actor registry; // as the supervisor handed it to the source
  std::vector<caf::actor_clock::time_point> starts;
  std::string fatal;
};

TEST_F(SupervisorTest, ADyingSourceIsRestartedWithAGrowingBackoff) {
  auto sup = spawn({1100ms, 0ms});
  ASSERT_TRUE(eventually([&] { return started() >= 4; }));
  EXPECT_TRUE(eventually([&] { return metric("ballast_source_restarts_total") >= 3; }));
  EXPECT_TRUE(stop(sup));
  // 1.1 s of life then 100 ms of backoff; then 200 ms, 400 ms.
  auto gap = [&](size_t i) { return starts[i + 1] - starts[i]; };
  EXPECT_GE(gap(0), 1100ms);
  EXPECT_GE(gap(1), 200ms);
  EXPECT_GE(gap(2), 400ms);
  EXPECT_TRUE(fatal.empty());
}

TEST_F(SupervisorTest, ASourceThatCannotStartAtAllIsFatal) {
  auto sup = spawn({0ms});
  ASSERT_TRUE(eventually([&] {
    std::lock_guard guard{mutex};
    return !fatal.empty();
  }));
  EXPECT_TRUE(stop(sup));
  EXPECT_NE(fatal.find("no BPF here"), std::string::npos) << fatal;
  EXPECT_EQ(starts.size(), 1u);
}

TEST_F(SupervisorTest, ADeadRegistryIsFatal) {
  auto sup = spawn({60000ms});
  ASSERT_TRUE(eventually([&] { return started() == 1; }));
  {
    std::lock_guard guard{mutex};
    caf::anon_send_exit(registry, caf::exit_reason::kill);
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard guard{mutex};
    return !fatal.empty();
  }));
  EXPECT_NE(fatal.find("registry died"), std::string::npos) << fatal;
  EXPECT_TRUE(stop(sup)); // still answers: main shuts down on the fatal signal
}

TEST_F(SupervisorTest, StopRepliesAndStopsTheSourceAndTheRegistry) {
  auto sup = spawn({60000ms});
  ASSERT_TRUE(eventually([&] { return metric("ballast_actors", {{"type", "registry"}}) == 1; }));
  EXPECT_TRUE(stop(sup));
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_actors", {{"type", "registry"}}) == 0 &&
           metric("ballast_actors", {{"type", "supervisor"}}) == 0;
  }));
  EXPECT_EQ(metric("ballast_source_restarts_total"), 0);
}

} // namespace

} // namespace ballast::test
