// The supervisor with injected event sources: a source that dies is
// restarted with a growing backoff and counted; a source that cannot start
// at all is fatal; stop replies once everything is stopped. A sense (sched,
// GPU) that dies is restarted with the backoff and parked after five
// failures in a row, and a change of its settings starts it afresh.
#include "actors/supervisor/supervisor.hpp"
#include "tests/actor/actor_fixture.hpp"

#include <atomic>
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

// A sense that runs for `lives_for`, then fails; `live` counts those running.
struct sense_state {
  std::shared_ptr<std::atomic<int>> live;
  ~sense_state() {
    if (live)
      --*live;
  }
};

sense_actor::behavior_type dying_sense(sense_actor::stateful_pointer<sense_state> self,
                                       std::chrono::milliseconds lives_for,
                                       std::shared_ptr<std::atomic<int>> live) {
  self->state.live = live;
  ++*live;
  self->delayed_send(self, lives_for, atom::tick_v);
  return {
      [=](atom::tick) { self->quit(caf::make_error(caf::sec::runtime_error, "map read failed")); },
  };
}

class SupervisorTest : public ActorTest {
protected:
  // Spawns a supervisor whose n-th source lives lifetimes[n] (the last one
  // repeats); records when each source started.
  supervisor_actor spawn(std::vector<std::chrono::milliseconds> lifetimes, config::agent cfg = {}) {
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
    // The GPU sense lives as long as its config's interval says (the
    // sched one is left out).
    env.spawn_gpu_source = [this](caf::actor_system &sys, registry_actor, const config::agent &c) {
      std::lock_guard guard{mutex};
      sense_starts.push_back(now());
      return sys.spawn(dying_sense, c.gpu_interval, live_senses);
    };
    return spawn_supervisor(*sys, std::move(cfg), env);
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
  std::vector<caf::actor_clock::time_point> sense_starts;
  std::shared_ptr<std::atomic<int>> live_senses = std::make_shared<std::atomic<int>>(0);
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

TEST_F(SupervisorTest, ADyingSenseIsRestartedWithTheBackoffAndParked) {
  config::agent cfg;
  cfg.gpu_interval = 1000ms;
  auto sup = spawn({60000ms}, cfg);
  pass(30s);
  {
    std::lock_guard guard{mutex};
    // Start, then four restarts after 100, 200, 400, 800 ms; the fifth
    // failure in a row parks it.
    ASSERT_EQ(sense_starts.size(), 5u);
    for (size_t i = 1; i < sense_starts.size(); ++i)
      EXPECT_GE(sense_starts[i] - sense_starts[i - 1], 1000ms + 100ms * (1 << (i - 1)));
  }
  EXPECT_EQ(metric("ballast_source_restarts_total"), 4);
  // A new config starts a parked sense again; a changed setting, a running one.
  cfg.gpu_interval = 60000ms;
  caf::anon_send(sup, atom::reload_v, cfg);
  pass(1s);
  EXPECT_EQ(sense_starts.size(), 6u);
  cfg.gpu_rescan = 60000ms;
  caf::anon_send(sup, atom::reload_v, cfg);
  pass(1s);
  EXPECT_EQ(sense_starts.size(), 7u);
  EXPECT_EQ(*live_senses, 1) << "the one before was stopped";
  caf::anon_send(sup, atom::reload_v, cfg); // nothing of it changed: left running
  pass(1s);
  EXPECT_EQ(sense_starts.size(), 7u);
  cfg.gpu_enabled = false;
  caf::anon_send(sup, atom::reload_v, cfg);
  pass(1s);
  EXPECT_EQ(*live_senses, 0) << "disabled: stopped";
  EXPECT_TRUE(stop(sup));
  EXPECT_EQ(sense_starts.size(), 7u);
}

} // namespace

} // namespace ballast::test
