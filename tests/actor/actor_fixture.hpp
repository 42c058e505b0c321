// Actors on a fixture cgroup root: a real actor system, real metrics and a
// real journal, with the cgroupfs replaced by a temp-dir tree, and events
// injected by the test instead of the BPF source.
#pragma once

#include "actors/cgroups/cgroup_context.hpp"
#include "messages/protocol.hpp"
#include "tests/support/metrics_probe.hpp"
#include "tests/support/temp_tree.hpp"

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <unistd.h>

namespace ballast::test {

class ActorTest : public ::testing::Test {
protected:
  ActorTest();
  ~ActorTest() override;

  // Polls pred until it holds or 3 s pass.
  static bool eventually(const std::function<bool()>& pred);

  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {});

  cgroup_status status_of(const cgroup_actor& cg);

  // A real process (sleep) to enrol; killed and reaped at the end.
  pid_t start_sleeper();

  // A stand-in policy: claims knob=value at priority from the knob's owner
  // (a cgroup actor, the host actor), then waits. Sent "boom" its handler
  // throws; sent "quit" it quits.
  caf::actor claimant(const caf::actor& owner, std::string knob, std::string value, int32_t priority = 0);
  template <class Owner>
  caf::actor claimant(const Owner& owner, std::string knob, std::string value, int32_t priority = 0) {
    return claimant(caf::actor_cast<caf::actor>(owner), std::move(knob), std::move(value), priority);
  }

  // Claims in the journal that no release closed.
  size_t open_journal_claims();

  // A telemetry policy selecting every process whose comm is "sleep".
  static config::policy telemetry_for_sleep(const std::string& name = "telemetry");

  temp_tree tree;       // the fixture cgroup2 root
  temp_tree state_dir;  // the journal, outside the cgroup tree
  std::shared_ptr<agent_metrics> metrics = std::make_shared<agent_metrics>();
  std::shared_ptr<cgroup_context> ctx = std::make_shared<cgroup_context>();
  std::unique_ptr<caf::actor_system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> sys;

private:
  std::vector<pid_t> children_;
};

} // namespace ballast::test
