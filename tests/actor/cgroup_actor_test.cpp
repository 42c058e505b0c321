// The cgroup actor on a fixture root: enrolment on attach and exit, claims
// restored however the claiming policy ends, priorities, journal, dry-run.
#include "actors/cgroups/cgroup_actor.hpp"
#include "sys/mountinfo.hpp"
#include "tests/actor/actor_fixture.hpp"

#include <sys/stat.h>
#include <thread>

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

class CgroupActorTest : public ActorTest {
protected:
  explicit CgroupActorTest(scheduling s = scheduling::deterministic) : ActorTest(s) {}
  cgroup_actor spawn(const std::string &path, std::vector<config::policy> policies = {},
                     bool dry_run = false) {
    tree.make_cgroup(path);
    tree.write(path + "/cpu.weight", "100\n");
    cgroup_spec spec{path, tree.inode(path), std::move(policies), dry_run};
    return spawn_cgroup_actor(*sys, std::move(spec), ctx);
  }

  std::string knob(const std::string &path, const std::string &file = "cpu.weight") {
    return tree.read(path + "/" + file);
  }

  // A policy claims cpu.weight=50, then `end` ends it: the knob is back at
  // its original, counted under `reason`, and nothing stays open.
  void expect_restored_after(const std::function<void(const caf::actor &)> &end,
                             const char *reason) {
    auto cg = spawn("/app");
    auto a = claimant(cg, "cpu.weight", "50");
    ASSERT_EQ(knob("/app"), "50");
    end(a);
    ASSERT_TRUE(eventually([&] { return knob("/app") == "100"; }));
    // The knob is written first; the metric and the journal record follow.
    EXPECT_TRUE(eventually([&] {
      return metric("ballast_knob_restores_total", {{"reason", reason}}) == 1;
    }));
    EXPECT_TRUE(eventually([&] { return open_journal_claims() == 0u; }));
    EXPECT_TRUE(status_of(cg).claims.empty());
  }
};

TEST_F(CgroupActorTest, AttachEnrolsAPolicyAndExitEndsIt) {
  auto cg = spawn("/app", {telemetry_for_sleep()});
  auto pid = start_sleeper();
  caf::anon_send(cg, cgroup_event{event_kind::attach, pid, 0, tree.inode("/app"), monotonic_ns(),
                                  "sleep", "/app"});
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  EXPECT_EQ(status_of(cg).policies, std::vector<std::string>{"telemetry:" + std::to_string(pid)});
  // The policy ticks: its series appears with the process's labels.
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_process_resident_bytes",
                  {{"pid", std::to_string(pid)}, {"cgroup", "/app"}}) > 0;
  }));
  EXPECT_GE(metric("ballast_policy_start_seconds"), 1);
  // ... and its cgroup's pressure, from the fixture's totals (100 us, 50 us).
  EXPECT_DOUBLE_EQ(metric("ballast_cgroup_pressure_stall_seconds_total",
                          {{"cgroup", "/app"}, {"resource", "memory"}, {"kind", "some"}}),
                   100e-6);
  EXPECT_DOUBLE_EQ(metric("ballast_cgroup_pressure_stall_seconds_total",
                          {{"cgroup", "/app"}, {"resource", "io"}, {"kind", "full"}}),
                   50e-6);

  caf::anon_send(
      cg, cgroup_event{event_kind::exit, pid, 0, tree.inode("/app"), monotonic_ns(), "", ""});
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_policy_actors", {{"policy", "telemetry"}}) == 0;
  }));
  EXPECT_TRUE(status_of(cg).pids.empty());
  // Its series went with it.
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_process_resident_bytes", {{"pid", std::to_string(pid)}}) == -1;
  }));
}

TEST_F(CgroupActorTest, EnrolmentByExeReadsTheExecutable) {
  auto p = telemetry_for_sleep();
  p.select.comm.clear();
  p.select.exe = ".*/sleep";
  auto cg = spawn("/app", {p});
  auto pid = start_sleeper();
  caf::anon_send(
      cg, cgroup_event{event_kind::exec, pid, 0, tree.inode("/app"), monotonic_ns(), "sleep", ""});
  EXPECT_TRUE(eventually([&] { return status_of(cg).policies.size() == 1; }));
}

TEST_F(CgroupActorTest, AnExecThatChangesTheNameEndsAPolicyThatNoLongerMatches) {
  auto cg = spawn("/app", {telemetry_for_sleep()});
  auto pid = start_sleeper();
  caf::anon_send(cg, cgroup_event{event_kind::attach, pid, 0, tree.inode("/app"), monotonic_ns(),
                                  "sleep", "/app"});
  ASSERT_TRUE(eventually([&] { return status_of(cg).policies.size() == 1; }));
  caf::anon_send(cg, cgroup_event{event_kind::exec, pid, 0, tree.inode("/app"), monotonic_ns(),
                                  "python3", ""});
  EXPECT_TRUE(eventually([&] { return status_of(cg).policies.empty(); }));
  EXPECT_EQ(status_of(cg).pids, std::vector<int32_t>{pid});
}

TEST_F(CgroupActorTest, AUidSelectorTakesTheUidFromTheEvent) {
  auto p = telemetry_for_sleep();
  p.select.uids = {1000};
  auto cg = spawn("/app", {p});
  auto pid = start_sleeper();
  caf::anon_send(cg, cgroup_event{event_kind::attach, pid, 0, tree.inode("/app"), monotonic_ns(),
                                  "sleep", "/app"});
  EXPECT_EQ(status_of(cg).pids, std::vector<int32_t>{pid});
  EXPECT_TRUE(status_of(cg).policies.empty());
  caf::anon_send(cg, cgroup_event{event_kind::exec, pid, 1000, tree.inode("/app"), monotonic_ns(),
                                  "sleep", ""});
  EXPECT_TRUE(eventually([&] { return status_of(cg).policies.size() == 1; }));
}

TEST_F(CgroupActorTest, AProcessTheSelectorDoesNotMatchIsNotEnrolled) {
  auto p = telemetry_for_sleep();
  p.select.comm = "nginx";
  auto cg = spawn("/app", {p});
  auto pid = start_sleeper();
  caf::anon_send(cg, cgroup_event{event_kind::attach, pid, 0, tree.inode("/app"), monotonic_ns(),
                                  "sleep", "/app"});
  EXPECT_EQ(status_of(cg).pids, std::vector<int32_t>{pid});
  EXPECT_TRUE(status_of(cg).policies.empty());
}

TEST_F(CgroupActorTest, AScannedPidThatIsGoneBeforeProcIsReadIsCountedNotEnrolled) {
  auto cg = spawn("/app", {telemetry_for_sleep()});
  caf::anon_send(cg, cgroup_members{{999999999}, monotonic_ns()});
  ASSERT_TRUE(eventually([&] { return metric("ballast_proc_read_errors_total") == 1; }));
  EXPECT_TRUE(status_of(cg).pids.empty());
}

TEST_F(CgroupActorTest, ClaimWritesAndJournalsTheOriginalFirst) {
  auto cg = spawn("/app");
  auto a = claimant(cg, "cpu.weight", "50");
  EXPECT_EQ(knob("/app"), "50");
  auto plan = plan_replay(*ctx->knob_journal->read_all());
  ASSERT_EQ(plan.restores.size(), 1u);
  EXPECT_EQ(plan.restores[0].value, "100");
  EXPECT_EQ(plan.restores[0].path, "/app");
  caf::anon_send(a, std::string("quit"));
}

TEST_F(CgroupActorTest, KnobIsRestoredWhenThePolicyEndsNormally) {
  expect_restored_after([](const caf::actor &a) { caf::anon_send(a, std::string("quit")); },
                        "policy_ended");
}

TEST_F(CgroupActorTest, KnobIsRestoredWhenThePolicyHandlerThrows) {
  expect_restored_after([](const caf::actor &a) { caf::anon_send(a, std::string("boom")); },
                        "policy_failed");
}

TEST_F(CgroupActorTest, KnobIsRestoredWhenThePolicyIsKilled) {
  expect_restored_after([](const caf::actor &a) { caf::anon_send_exit(a, caf::exit_reason::kill); },
                        "policy_failed");
}

TEST_F(CgroupActorTest, HigherPriorityWinsAndTheKnobFallsBackInOrder) {
  auto cg = spawn("/app");
  auto high = claimant(cg, "cpu.weight", "10", 5);
  auto low = claimant(cg, "cpu.weight", "70", 1);
  EXPECT_EQ(knob("/app"), "10");
  EXPECT_EQ(metric("ballast_claims", {{"knob", "cpu.weight"}}), 2);
  caf::anon_send(high, std::string("quit"));
  ASSERT_TRUE(eventually([&] { return knob("/app") == "70"; }));
  caf::anon_send(low, std::string("quit"));
  ASSERT_TRUE(eventually([&] { return knob("/app") == "100"; }));
  EXPECT_TRUE(eventually([&] { return open_journal_claims() == 0u; }));
  EXPECT_TRUE(eventually([&] { return metric("ballast_claims", {{"knob", "cpu.weight"}}) == 0; }));
}

TEST_F(CgroupActorTest, TelemetryExportsTheCgroupsMemoryCpuAndOomKills) {
  auto cg = spawn("/app", {telemetry_for_sleep()});
  auto pid = start_sleeper();
  caf::anon_send(cg, cgroup_event{event_kind::attach, pid, 0, tree.inode("/app"), monotonic_ns(),
                                  "sleep", "/app"});
  // One sample sets the series one after another: wait for the last of them.
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_cgroup_memory_bytes", {{"cgroup", "/app"}}) == 8388608 &&
           metric("ballast_cgroup_memory_events_total",
                  {{"cgroup", "/app"}, {"event", "oom_kill"}}) >= 0;
  }));
  EXPECT_DOUBLE_EQ(metric("ballast_cgroup_cpu_seconds_total", {{"cgroup", "/app"}}), 2.5);
  EXPECT_EQ(
      metric("ballast_cgroup_memory_events_total", {{"cgroup", "/app"}, {"event", "oom_kill"}}), 0);
  // The kernel kills twice in the cgroup; the next sample (every 5 s) counts them.
  tree.write("/app/memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\n");
  auto written = now();
  EXPECT_TRUE(eventually(
      [&] {
        return metric("ballast_cgroup_memory_events_total",
                      {{"cgroup", "/app"}, {"event", "oom_kill"}}) == 2;
      },
      8s));
  EXPECT_GE(now() - written, 4s) << "sampled every 5 s, not on every tick";
  EXPECT_EQ(
      metric("ballast_cgroup_memory_events_total", {{"cgroup", "/app"}, {"event", "oom_kill"}}), 2);
  EXPECT_EQ(metric("ballast_cgroup_memory_events_total", {{"cgroup", "/app"}, {"event", "max"}}),
            7);
}

// The kernel's "file modified" event on memory.events (inotify here, on a
// fixture file) is enough: no policy samples the cgroup, as when the OOM
// killer took its last process, and the kill is still counted.
// Real threads: the file watch's, which sees the kernel's (here: inotify's)
// event.
class OomWatchTest : public CgroupActorTest {
protected:
  OomWatchTest() : CgroupActorTest(scheduling::threaded) {}
};

TEST_F(OomWatchTest, AnOomKillIsCountedWhenTheFileChangesWithNoPolicySampling) {
  ctx->files = *file_watch::start();
  auto cg = spawn("/app");
  // The counts at start are the baseline.
  ASSERT_TRUE(eventually([&] {
    return metric("ballast_cgroup_memory_events_total",
                  {{"cgroup", "/app"}, {"event", "oom_kill"}}) == 0;
  }));
  tree.write("/app/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_cgroup_memory_events_total",
                  {{"cgroup", "/app"}, {"event", "oom_kill"}}) == 1;
  }));
  EXPECT_EQ(metric("ballast_cgroup_memory_events_total", {{"cgroup", "/app"}, {"event", "max"}}),
            3);
  EXPECT_TRUE(status_of(cg).policies.empty());
  request(cg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
  // Its series go with the actor; a change after that is nobody's.
  EXPECT_TRUE(eventually([&] {
    return metric("ballast_cgroup_memory_events_total",
                  {{"cgroup", "/app"}, {"event", "oom_kill"}}) == -1;
  }));
  tree.write("/app/memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(
      metric("ballast_cgroup_memory_events_total", {{"cgroup", "/app"}, {"event", "oom_kill"}}),
      -1);
}

TEST_F(CgroupActorTest, PressureSeriesGoWhenTheCgroupActorAndItsPoliciesAreGone) {
  auto cg = spawn("/app", {telemetry_for_sleep()});
  auto pid = start_sleeper();
  caf::anon_send(cg, cgroup_event{event_kind::attach, pid, 0, tree.inode("/app"), monotonic_ns(),
                                  "sleep", "/app"});
  auto series = [&] {
    return metric("ballast_cgroup_pressure_stall_seconds_total",
                  {{"cgroup", "/app"}, {"resource", "cpu"}, {"kind", "some"}});
  };
  ASSERT_TRUE(eventually([&] { return series() > 0; }));
  request(cg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) { FAIL(); });
  EXPECT_TRUE(eventually([&] { return series() == -1; }));
}

TEST_F(CgroupActorTest, StopRestoresEveryKnob) {
  auto cg = spawn("/app");
  tree.write("/app/cgroup.freeze", "0\n");
  auto a = claimant(cg, "cpu.weight", "50");
  auto b = claimant(cg, "cgroup.freeze", "1");
  request(cg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) { FAIL(); });
  EXPECT_EQ(knob("/app"), "100");
  EXPECT_EQ(knob("/app", "cgroup.freeze"), "0");
  EXPECT_EQ(metric("ballast_knob_restores_total", {{"reason", "shutdown"}}), 2);
  EXPECT_EQ(open_journal_claims(), 0u);
  caf::anon_send_exit(a, caf::exit_reason::kill);
  caf::anon_send_exit(b, caf::exit_reason::kill);
}

TEST_F(CgroupActorTest, DryRunWritesNothingButCountsAndAnswers) {
  auto cg = spawn("/app", {}, true);
  claim_reply reply;
  request(cg, claim_request{"cpu.weight", "50", 0, "test"})
      .receive([&](claim_reply &r) { reply = r; }, [](caf::error &) { FAIL(); });
  EXPECT_TRUE(reply.dry_run);
  EXPECT_EQ(reply.effective_value, "50");
  EXPECT_EQ(knob("/app"), "100\n");
  EXPECT_EQ(metric("ballast_knob_writes_total", {{"mode", "dry_run"}}), 1);
  EXPECT_EQ(metric("ballast_claims", {{"knob", "cpu.weight"}}), 1);
  EXPECT_EQ(metric("ballast_knob_writes_total", {{"mode", "write"}, {"result", "ok"}}), 0);
  EXPECT_TRUE(ctx->knob_journal->read_all()->empty());
}

TEST_F(CgroupActorTest, TurningDryRunOnRestoresAndOffAppliesStandingClaims) {
  auto cg = spawn("/app");
  auto a = claimant(cg, "cpu.weight", "50");
  ASSERT_EQ(knob("/app"), "50");
  caf::anon_send(cg, atom::dry_run_v, true);
  ASSERT_TRUE(eventually([&] { return knob("/app") == "100"; }));
  EXPECT_EQ(open_journal_claims(), 0u);
  caf::anon_send(cg, atom::dry_run_v, false);
  ASSERT_TRUE(eventually([&] { return knob("/app") == "50"; }));
  EXPECT_EQ(open_journal_claims(), 1u);
  caf::anon_send(a, std::string("quit"));
  ASSERT_TRUE(eventually([&] { return knob("/app") == "100"; }));
  EXPECT_EQ(open_journal_claims(), 0u);
}

TEST_F(CgroupActorTest, AClaimOnARemovedCgroupIsRefusedWithAReason) {
  auto cg = spawn("/app");
  status_of(cg); // the actor has opened its cgroup
  tree.remove("/app");
  std::string why;
  request(cg, claim_request{"cpu.weight", "50", 0, "test"})
      .receive([](claim_reply &) { FAIL() << "claim on a removed cgroup accepted"; },
               [&](caf::error &e) { why = sys->render(e); });
  EXPECT_NE(why.find("cpu.weight"), std::string::npos) << why;
}

// A fixture file accepts any value (and root ignores file modes), so this
// one runs on a real cgroup, whose kernel refuses a value the knob table
// lets through (a count beyond int) with ERANGE.
TEST_F(CgroupActorTest, AValueTheKernelRefusesIsAnErrorAndLeavesNothingStanding) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to make a real cgroup";
  auto root = sys::discover_cgroup2_mount();
  ASSERT_TRUE(root) << root.err().message;
  ctx->cgroup_root = *root;
  auto rel = "/ballast-actor-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir((*root + rel).c_str(), 0755), 0);
  struct stat st {};
  ::stat((*root + rel).c_str(), &st);
  {
    auto cg = spawn_cgroup_actor(*sys, {rel, st.st_ino, {}, false}, ctx);
    std::string why;
    request(cg, claim_request{"cgroup.max.descendants", "99999999999", 0, "test"})
        .receive([](claim_reply &) { ADD_FAILURE() << "the kernel took 99999999999"; },
                 [&](caf::error &e) { why = sys->render(e); });
    EXPECT_NE(why.find("cgroup.max.descendants"), std::string::npos) << why;
    EXPECT_TRUE(status_of(cg).claims.empty());
    EXPECT_EQ(open_journal_claims(), 0u);
    EXPECT_EQ(metric("ballast_knob_writes_total", {{"mode", "write"}, {"result", "error"}}), 1);
    request(cg, atom::stop_v).receive([](atom::done) {}, [](caf::error &) {});
  }
  EXPECT_EQ(::rmdir((*root + rel).c_str()), 0);
}

// The knob table decides what may be claimed: a file not in it, an action
// claimed as a setting, or a value its row refuses never reaches the file.
TEST_F(CgroupActorTest, WhatTheKnobTableRefusesIsNeitherJournalledNorWritten) {
  auto cg = spawn("/app");
  struct refused_claim {
    const char *knob, *value, *reason;
  };
  for (auto [knob, value, reason] :
       std::vector<refused_claim>{{"../escape", "1", "not a cgroup knob"},
                                  {"memory.stat", "1", "not a cgroup knob"},
                                  {"cgroup.kill", "1", "not a cgroup knob"},
                                  {"cpu.weight", "0", "cpu.weight: '0' is not a weight"}}) {
    std::string why;
    request(cg, claim_request{knob, value, 0, "test"})
        .receive([&](claim_reply &) { ADD_FAILURE() << knob << "=" << value << " accepted"; },
                 [&](caf::error &e) { why = sys->render(e); });
    EXPECT_NE(why.find(reason), std::string::npos) << knob << ": " << why;
  }
  EXPECT_EQ(tree.read("/app/cpu.weight"), "100\n");
  EXPECT_TRUE(status_of(cg).claims.empty());
  EXPECT_EQ(open_journal_claims(), 0u);
  EXPECT_EQ(metric("ballast_knob_writes_total", {{"mode", "write"}, {"result", "ok"}}), 0);
}

} // namespace

} // namespace ballast::test
