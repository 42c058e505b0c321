// Actors on a fixture cgroup root: a real actor system, real metrics and a
// real journal, with the cgroupfs replaced by a temp-dir tree, and events
// injected by the test instead of the BPF source.
//
// Deterministic by default: the actor system runs on CAF's test coordinator
// with its manual clock, in the test's own thread. `eventually` runs every
// actor until nothing is left to do, and only then moves the clock to the
// next timer (a tick, a backoff, a delayed restart), so what a test sees
// happens in the order the actors make it, and seconds of simulated time
// take no wall-clock time. Without knob writer threads, writes run in the
// actors. ThreadedActorTest is the real scheduler with writer threads, for
// what only threads show (a write stalled in the kernel).
#pragma once

#include "actors/cgroups/cgroup_context.hpp"
#include "messages/protocol.hpp"
#include "tests/support/metrics_probe.hpp"
#include "tests/support/temp_tree.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <unistd.h>

namespace ballast::test {

enum class scheduling { deterministic, threaded };

class ActorTest : public ::testing::Test {
protected:
  explicit ActorTest(scheduling s = scheduling::deterministic);
  ~ActorTest() override;

  // Runs the actors (moving the manual clock from timer to timer) until pred
  // holds or `limit` passes, in simulated time; threaded: polls the wall
  // clock.
  bool eventually(const std::function<bool()> &pred,
                  std::chrono::milliseconds limit = std::chrono::seconds(3));

  // Lets `d` pass for the actors (simulated time in deterministic tests).
  void pass(std::chrono::milliseconds d) {
    eventually([] { return false; }, d);
  }

  // The actor system's clock: simulated in deterministic tests.
  caf::actor_clock::time_point now() const { return sys->clock().now(); }

  // A request from the test's own actor (it lives as long as the test, so a
  // claim it makes stands until the end), whose reply comes to
  // receive(on_reply, on_error): once the actors have produced it
  // (deterministic), or within 5 s (threaded).
  template <class Handle> struct pending_reply {
    ActorTest *test;
    Handle handle;
    template <class... Fs> void receive(Fs... fs) {
      if (test->sched && !test->eventually([&] { return !(*test->client_)->mailbox().empty(); })) {
        ADD_FAILURE() << "no reply within the test's time";
        return;
      }
      handle.receive(std::move(fs)...);
    }
  };
  template <class Dest, class... Ts> auto request(const Dest &dest, Ts... xs) {
    if (!client_)
      client_ = std::make_unique<caf::scoped_actor>(*sys);
    auto timeout = sched ? caf::duration(caf::infinite) : caf::duration(std::chrono::seconds(5));
    auto handle = (*client_)->request(dest, timeout, std::move(xs)...);
    return pending_reply<decltype(handle)>{this, std::move(handle)};
  }

  // The reply as a value, or the error.
  template <class Reply, class Dest, class... Ts>
  caf::expected<Reply> ask(const Dest &dest, Ts... xs) {
    caf::expected<Reply> out = caf::make_error(caf::sec::request_timeout, "no reply");
    request(dest, std::move(xs)...)
        .receive([&](Reply &r) { out = std::move(r); }, [&](caf::error &e) { out = std::move(e); });
    return out;
  }

  double metric(const std::string &name, const std::map<std::string, std::string> &labels = {});

  cgroup_status status_of(const cgroup_actor &cg);

  // A real process (sleep) to enrol; killed and reaped at the end.
  pid_t start_sleeper();

  // A stand-in policy: claims knob=value at priority from the knob's owner
  // (a cgroup actor, the host actor), then waits. Sent "boom" its handler
  // throws; sent "quit" it quits.
  caf::actor claimant(const caf::actor &owner, std::string knob, std::string value,
                      int32_t priority = 0);
  template <class Owner>
  caf::actor claimant(const Owner &owner, std::string knob, std::string value,
                      int32_t priority = 0) {
    return claimant(caf::actor_cast<caf::actor>(owner), std::move(knob), std::move(value),
                    priority);
  }

  // Stops a cgroup actor that may have stopped already: one with policies
  // would otherwise outlive the test (it and its policies hold each other).
  void stop_if_running(const cgroup_actor &cg) {
    if (cg)
      request(cg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
  }

  // Claims in the journal that no release closed.
  size_t open_journal_claims();

  // A telemetry policy selecting every process whose comm is "sleep".
  static config::policy telemetry_for_sleep(const std::string &name = "telemetry");
  // A policy `name` of `type` over the cgroups matching `glob` on a 1 s
  // interval, its params compiled (an error fails the test).
  static config::policy group_policy(const std::string &name, const std::string &type,
                                     const std::string &glob, const std::string &params);

  temp_tree tree;      // the fixture cgroup2 root
  temp_tree state_dir; // the journal, outside the cgroup tree
  std::shared_ptr<agent_metrics> metrics = std::make_shared<agent_metrics>();
  std::shared_ptr<cgroup_context> ctx = std::make_shared<cgroup_context>();
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator *sched = nullptr; // null: threaded

private:
  std::vector<pid_t> children_;
  std::unique_ptr<caf::scoped_actor> client_; // the test's own actor, for requests
};

class ThreadedActorTest : public ActorTest {
protected:
  ThreadedActorTest() : ActorTest(scheduling::threaded) {}
};

// What compile_policy says of a policy of `type` with these params, an
// error a line.
std::string param_errors(const std::string &type, const std::string &params);

} // namespace ballast::test
