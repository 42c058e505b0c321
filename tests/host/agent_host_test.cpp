// ballastd as a process against this machine's kernel (root): BPF events
// from real cgroup and process churn reach the actors and /metrics, actors
// go back to their baseline, signals behave, bad input loses nothing.
#include "actors/effector/journal.hpp"
#include "tests/host/host_fixture.hpp"
#include "tests/support/cgroup_workload.hpp"
#include "tests/support/soak.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

TEST_F(AgentHostTest, LifecycleEventsReachTheActorsAndActorsGoBackToZero) {
  auto &agent = start();
  auto base = agent.metrics();
  double cgroups_before = base.value("ballast_actors", {{"type", "cgroup"}});
  auto dir = root_ + subtree_ + "/job";
  make_cgroup_dir(dir);
  pid_t pid = spawn_in_cgroup(dir, {"/bin/sleep", "30"});
  EXPECT_TRUE(metrics_eventually([&](const scrape &m) {
    return m.value("ballast_cgroup_pressure_stall_seconds_total",
                   {{"cgroup", subtree_ + "/job"}, {"resource", "cpu"}, {"kind", "some"}}) >= 0 &&
           m.value("ballast_actors", {{"type", "cgroup"}}) == cgroups_before + 1 &&
           m.value("ballast_policy_actors", {{"policy", "telemetry"}}) == 1 &&
           m.value("ballast_process_resident_bytes", {{"policy", "telemetry"},
                                                      {"cgroup", subtree_ + "/job"},
                                                      {"pid", std::to_string(pid)},
                                                      {"comm", "sleep"}}) > 0;
  })) << agent.metrics().text();
  kill_and_reap(pid);
  remove_cgroup_dir(dir);
  EXPECT_TRUE(metrics_eventually([&](const scrape &m) {
    return m.value("ballast_actors", {{"type", "cgroup"}}) == cgroups_before &&
           m.value("ballast_actors", {{"type", "policy"}}) == 0;
  })) << agent.metrics().text();
  auto m = agent.metrics();
  for (auto kind : {"cgroup_mkdir", "attach", "exec", "exit", "cgroup_rmdir"})
    EXPECT_GE(m.value("ballast_cgroup_events_total", {{"kind", kind}}), 1) << kind;
  EXPECT_EQ(m.value("ballast_events_lost_total"), 0);
  EXPECT_GE(m.value("ballast_event_handling_seconds_count"), 2);
  // The process's series went with it.
  EXPECT_EQ(m.series("ballast_process_resident_bytes"), 0u);
}

// Issue 7's soak, short (bench/agent_bench soak runs 100,000 cycles): after
// 3,000 cycles of mkdir + attach + exec + exit + rmdir the actors are back at
// their baseline, every event the cycles made was counted, none lost, no fd
// leaked, and RSS grew by at most 1 MiB after the warm-up.
TEST_F(AgentHostTest, ASoakLeavesNoActorsFdsOrUncountedEvents) {
  auto &agent = start();
  auto r = run_soak(agent, root_ + subtree_, 3000, 1000);
  EXPECT_TRUE(r.drained) << agent.metrics().text();
  EXPECT_EQ(r.cgroup_actors_after, r.cgroup_actors_before);
  EXPECT_EQ(r.policy_actors_after, r.policy_actors_before);
  EXPECT_EQ(r.lost, 0);
  // Every event the cycles made was seen (the rest of the host may add some:
  // the agent counts events host-wide; bench/agent_bench soak reports both).
  for (auto kind : {"cgroup_mkdir", "attach", "exec", "exit", "cgroup_rmdir"})
    EXPECT_GE(r.seen[kind], r.generated[kind]) << kind;
  EXPECT_EQ(r.after.fds, r.after_warmup.fds);
  double growth = r.after.rss_bytes - r.after_warmup.rss_bytes;
  std::printf("soak: %d cycles in %.1f s after the warm-up; RSS %.1f -> %.1f MiB (%+.0f KiB); fds "
              "%d -> %d\n",
              r.cycles - r.warmup, r.cycle_seconds, r.after_warmup.rss_bytes / 1048576,
              r.after.rss_bytes / 1048576, growth / 1024, r.after_warmup.fds, r.after.fds);
#ifdef __SANITIZE_ADDRESS__
  // ASan keeps freed memory in quarantine (up to 256 MiB), so RSS says
  // nothing about leaks there.
  std::printf("soak: RSS growth not checked under AddressSanitizer\n");
#else
  EXPECT_LE(growth, 1048576);
#endif
}

// Issue 7: a deliberately tiny ring buffer (4 KiB, about a dozen records)
// under a burst of mkdirs and rmdirs. The kernel drops records; the agent
// must count them, rescan, and end with one cgroup actor per directory the
// tree really holds (here: the subtree and the 50 kept directories).
TEST_F(AgentHostTest, ARingBufferOverflowIsCountedAndRepairedByARescan) {
  auto json = config_json(port_, subtree_, journal_);
  json.insert(1, R"("ring_buffer_bytes": 4096, )");
  auto &agent = start(json);
  double rescans = agent.metrics().value("ballast_rescans_total");
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i) {
    auto dir = root_ + subtree_ + "/b" + std::to_string(i);
    make_cgroup_dir(dir);
    if (i % 40 != 0)
      remove_cgroup_dir(dir);
  }
  // 60 s: the same test runs inside the TCG VM too, where the burst alone
  // takes seconds.
  EXPECT_TRUE(metrics_eventually(
      [&](const scrape &m) {
        return m.value("ballast_events_lost_total") > 0 &&
               m.value("ballast_rescans_total") > rescans &&
               m.value("ballast_actors", {{"type", "cgroup"}}) == 51;
      },
      60s))
      << agent.metrics().text();
  auto m = agent.metrics();
  std::printf("overflow: %.0f records lost, %.0f rescans, settled %.2f s after the burst began\n",
              m.value("ballast_events_lost_total"), m.value("ballast_rescans_total") - rescans,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  for (int i = 0; i < 2000; i += 40)
    remove_cgroup_dir(root_ + subtree_ + "/b" + std::to_string(i));
}

TEST_F(AgentHostTest, ProcessesThatExistedBeforeTheAgentAreEnrolled) {
  auto dir = root_ + subtree_ + "/early";
  make_cgroup_dir(dir);
  pid_t pid = spawn_in_cgroup(dir, {"/bin/sleep", "30"});
  auto &agent = start();
  EXPECT_TRUE(metrics_eventually([&](const scrape &m) {
    return m.value("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  })) << agent.metrics().text();
  kill_and_reap(pid);
  remove_cgroup_dir(dir);
}

TEST_F(AgentHostTest, WithoutAGpuTheGpuSourceSaysSoOnceAndStaysIdle) {
  struct stat st {};
  if (::stat("/sys/class/drm/card0", &st) == 0 || ::stat("/sys/class/drm/renderD128", &st) == 0)
    GTEST_SKIP() << "this host has a DRM device: the idle path is not what it runs";
  auto &agent = start();
  EXPECT_TRUE(
      metrics_eventually([&](const scrape &m) { return m.value("ballast_gpu_clients") == 0; }));
  auto idle = [&] {
    auto log = agent.log();
    size_t n = 0;
    for (auto at = log.find("the GPU source is idle"); at != std::string::npos;
         at = log.find("the GPU source is idle", at + 1))
      ++n;
    return n;
  };
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(idle(), 1u) << agent.log();
  EXPECT_EQ(agent.metrics().series("ballast_gpu_memory_bytes"), 0u);
}

TEST_F(AgentHostTest, SigtermExitsZeroPromptly) {
  auto &agent = start();
  auto t0 = std::chrono::steady_clock::now();
  agent.signal(SIGTERM);
  auto code = agent.wait_exit(5s);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(code.has_value()) << agent.log();
  EXPECT_EQ(*code, 0) << agent.log();
  // The 190 ms target is measured by bench/; here: well within a second.
  EXPECT_LT(took, 1s);
}

TEST_F(AgentHostTest, SighupWithABrokenConfigKeepsTheRunningOne) {
  auto &agent = start();
  std::ofstream(agent.config_path())
      << R"({"policies": [{"name": "t", "type": "telemetry", "interval": "1ms"}]})";
  agent.signal(SIGHUP);
  EXPECT_TRUE(metrics_eventually([](const scrape &m) {
    return m.value("ballast_config_reloads_total", {{"result", "refused"}}) == 1;
  }));
  EXPECT_NE(agent.log().find("policies[0].interval: must be at least 10ms"), std::string::npos)
      << agent.log();
  // Still running on the old config: new processes are still enrolled.
  auto dir = root_ + subtree_ + "/after";
  make_cgroup_dir(dir);
  pid_t pid = spawn_in_cgroup(dir, {"/bin/sleep", "30"});
  EXPECT_TRUE(metrics_eventually([](const scrape &m) {
    return m.value("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  kill_and_reap(pid);
  remove_cgroup_dir(dir);
}

TEST_F(AgentHostTest, SighupWithAGoodConfigAppliesIt) {
  auto dir = root_ + subtree_ + "/job";
  make_cgroup_dir(dir);
  pid_t pid = spawn_in_cgroup(dir, {"/bin/sleep", "30"});
  auto &agent = start();
  ASSERT_TRUE(metrics_eventually([](const scrape &m) {
    return m.value("ballast_policy_actors", {{"policy", "telemetry"}}) == 1;
  }));
  // The policy now selects nothing in our subtree: its actor ends.
  std::ofstream(agent.config_path())
      << config_json(port_, subtree_, journal_)
             .replace(config_json(port_, subtree_, journal_).rfind(subtree_ + "/**"),
                      subtree_.size() + 3, "/nowhere");
  agent.signal(SIGHUP);
  EXPECT_TRUE(metrics_eventually([](const scrape &m) {
    return m.value("ballast_config_reloads_total", {{"result", "ok"}}) == 1 &&
           m.value("ballast_policy_actors", {{"policy", "telemetry"}}) == 0;
  })) << agent.log();
  kill_and_reap(pid);
  remove_cgroup_dir(dir);
}

TEST_F(AgentHostTest, ASecondAgentOnATakenPortFailsNamingThePort) {
  start();
  agent_process second(ballastd_path(), config_json(port_, subtree_, journal_ + "2"), port_);
  auto code = second.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_NE(second.log().find("port " + std::to_string(port_) + " is already in use"),
            std::string::npos)
      << second.log();
}

// Two agents on one journal would mix their records and restore each
// other's knobs: the second refuses to start and says why.
TEST_F(AgentHostTest, ASecondAgentOnTheSameJournalRefusesToStart) {
  start();
  auto port = next_port();
  agent_process second(ballastd_path(), config_json(port, subtree_, journal_), port);
  auto code = second.wait_exit(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  EXPECT_NE(second.log().find("is in use by another agent"), std::string::npos) << second.log();
}

TEST_F(AgentHostTest, AKnobLeftChangedByAKilledAgentIsRestoredAtStart) {
  // What an agent killed with SIGKILL after its first write leaves behind:
  // the journal's open claim and the changed knob.
  auto dir = root_ + subtree_ + "/held";
  make_cgroup_dir(dir);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  {
    auto j = journal::open(journal_);
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->append({journal_record::op::claim, st.st_ino, "cgroup.max.descendants", "max",
                           subtree_ + "/held"}));
  }
  std::ofstream(dir + "/cgroup.max.descendants") << "3";
  auto &agent = start();
  std::ifstream in(dir + "/cgroup.max.descendants");
  std::string value;
  in >> value;
  EXPECT_EQ(value, "max") << agent.log();
  EXPECT_EQ(agent.metrics().value("ballast_knob_restores_total", {{"reason", "journal"}}), 1);
  remove_cgroup_dir(dir);
}

TEST_F(AgentHostTest, ACorruptJournalIsReportedAndTheValidPartReplayed) {
  auto dir = root_ + subtree_ + "/held";
  make_cgroup_dir(dir);
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  {
    std::ofstream(journal_) << "garbage that is not a record\n"
                            << format_record(1, {journal_record::op::claim, st.st_ino,
                                                 "cgroup.max.depth", "max", subtree_ + "/held"})
                            << "8bad"; // torn last line
  }
  std::ofstream(dir + "/cgroup.max.depth") << "2";
  auto &agent = start();
  std::ifstream in(dir + "/cgroup.max.depth");
  std::string value;
  in >> value;
  EXPECT_EQ(value, "max");
  EXPECT_EQ(agent.metrics().value("ballast_journal_errors_total"), 2);
  EXPECT_NE(agent.log().find("corrupt or torn"), std::string::npos) << agent.log();
  remove_cgroup_dir(dir);
}

} // namespace

} // namespace ballast::test
