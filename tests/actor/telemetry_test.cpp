// The telemetry policy on a fixture /proc: CPU time from the sched source's
// samples while they come (the process's stat is not read for it), lined up
// with /proc/PID/stat when a source starts, from stat alone when the samples
// stop; nothing, and no stat read, while the source reads and its cgroup has
// no sample (nothing of it ran); RSS from statm; the series relabelled on an
// exec.
#include "actors/cgroups/cgroup_actor.hpp"
#include "actors/cgroups/registry.hpp"
#include "actors/policies/policy.hpp"
#include "tests/actor/actor_fixture.hpp"

namespace ballast::test {

namespace {

using namespace std::chrono_literals;

constexpr int32_t pid = 77;

class TelemetryTest : public ActorTest {
protected:
  TelemetryTest() {
    ctx->proc = sys::procfs(proc.root());
    write_stat("sleep", 300, 100, 10);
    write_statm(20);
    tree.make_cgroup("/app");
    cg = spawn_cgroup_actor(*sys, {"/app", tree.inode("/app"), {telemetry()}, false}, ctx);
    caf::anon_send(cg, cgroup_event{event_kind::attach, pid, 0, tree.inode("/app"), monotonic_ns(),
                                    "sleep", "/app"});
  }

  // Every process, whatever its name: an exec keeps it enrolled.
  static config::policy telemetry() {
    auto p = telemetry_for_sleep();
    p.select.comm = ".*";
    EXPECT_TRUE(compile_policy(p).empty());
    return p;
  }

  void write_stat(const std::string &comm, uint64_t utime, uint64_t stime, uint64_t rss) {
    proc.write("/77/stat", "77 (" + comm + ") S 1 77 77 0 -1 0 0 0 0 0 " + std::to_string(utime) +
                               " " + std::to_string(stime) + " 0 0 20 0 1 0 4242 1234567 " +
                               std::to_string(rss) + " 0\n");
  }
  void write_statm(uint64_t resident) {
    proc.write("/77/statm", "1000 " + std::to_string(resident) + " 0 0 0 0 0\n");
  }

  static double ticks(uint64_t n) {
    return double(n) / double(sys::procfs::clock_ticks_per_second());
  }

  // One read of the sched source (loaded at `loaded_ns`) in which pid ran.
  void sched_read(uint64_t loaded_ns, uint64_t oncpu_ns) {
    sched_sample s;
    s.cgroup_id = tree.inode("/app");
    s.interval_ns = 1'000'000'000;
    s.loaded_ns = loaded_ns;
    s.oncpu_ns = oncpu_ns;
    s.weighted_ns = oncpu_ns;
    s.processes = {{pid, oncpu_ns}};
    caf::anon_send(cg, std::move(s));
  }

  double cpu(const std::string &comm = "sleep") {
    return metric("ballast_process_cpu_seconds_total", {{"pid", "77"}, {"comm", comm}});
  }
  double rss(const std::string &comm = "sleep") {
    return metric("ballast_process_resident_bytes", {{"pid", "77"}, {"comm", comm}});
  }

  temp_tree proc;
  cgroup_actor cg;
};

TEST_F(TelemetryTest, CountsFromStatWithoutTheSchedSource) {
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(400); }));
  EXPECT_EQ(rss(), double(10 * sys::procfs::page_size()));
  write_stat("sleep", 500, 100, 12);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(600); }));
  EXPECT_EQ(rss(), double(12 * sys::procfs::page_size()));
}

TEST_F(TelemetryTest, CountsTheSchedSourcesGrowthAndNotStat) {
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(400); }));
  sched_read(1, 2'000'000'000); // the first count of this source: lined up with stat
  pass(100ms);
  EXPECT_EQ(cpu(), ticks(400));
  // stat moves, but while the source's samples come it is not what counts.
  write_stat("sleep", 5000, 100, 10);
  sched_read(1, 3'500'000'000);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(400) + 1.5; }));
  EXPECT_EQ(rss(), double(20 * sys::procfs::page_size())); // from statm
  pass(500ms);
  EXPECT_EQ(cpu(), ticks(400) + 1.5);
}

TEST_F(TelemetryTest, ASourceRestartIsLinedUpWithStatAgain) {
  sched_read(1, 1'000'000'000);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(400); }));
  sched_read(1, 2'000'000'000);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(400) + 1; }));
  // Reloaded: its counts start again from 0. stat has the truth meanwhile.
  write_stat("sleep", 700, 100, 10);
  sched_read(2, 100'000'000);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(800); }));
  sched_read(2, 600'000'000);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(800) + 0.5; }));
}

TEST_F(TelemetryTest, FallsBackToStatWhenTheSamplesStop) {
  sched_read(1, 1'000'000'000);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(400); }));
  write_stat("sleep", 900, 100, 10);
  pass(1s);
  EXPECT_EQ(cpu(), ticks(400)); // the source's samples are fresh: stat is not read
  // No sample for three of the source's intervals: it has stopped.
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(1000); }, 5s));
}

// The source's maps hold only cgroups whose tasks ran since it loaded: while
// its batches come through the registry without /app, the process did not
// run and its stat is not read; when they stop, stat is read again.
TEST_F(TelemetryTest, NoSampleWhileTheSourceReadsMeansTheProcessDidNotRun) {
  auto reg = spawn_registry(*sys, config::agent{}, ctx);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(400); }));
  write_stat("sleep", 900, 100, 10);
  for (int i = 0; i < 4; ++i) {
    caf::anon_send(reg, sched_batch{1, 1'000'000'000, {}});
    pass(1s);
  }
  EXPECT_EQ(cpu(), ticks(400));
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(1000); }, 5s));
  caf::anon_send_exit(reg, caf::exit_reason::user_shutdown);
}

TEST_F(TelemetryTest, AnExecRelabelsTheSeries) {
  sched_read(1, 1'000'000'000);
  ASSERT_TRUE(eventually([&] { return cpu() == ticks(400); }));
  write_stat("worker", 300, 100, 10);
  caf::anon_send(
      cg, cgroup_event{event_kind::exec, pid, 0, tree.inode("/app"), monotonic_ns(), "worker", ""});
  ASSERT_TRUE(eventually([&] { return rss("worker") > 0; }));
  EXPECT_EQ(rss("sleep"), -1); // the old name's series are gone
  // The new series starts at the process's whole CPU time.
  ASSERT_TRUE(eventually([&] { return cpu("worker") == ticks(400); }));
}

} // namespace
} // namespace ballast::test
