// The sched source on this machine's kernel: ballastd loads bpf/sched.bpf.c
// and each workload's cgroup shows the signal it makes — a CPU hog's on-CPU
// time (against the kernel's own cpu.stat), a pipe ping-pong's run-queue
// delay, mutex contention's futex waits, and direct IO's block latency.
#include "tests/host/host_fixture.hpp"
#include "tests/support/cgroup_workload.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace ballast::test {

namespace {

class SchedSourceTest : public AgentHostTest {
protected:
  void SetUp() override {
    AgentHostTest::SetUp();
    if (IsSkipped())
      return;
    work_ = subtree_ + "/work";
    make_cgroup_dir(root_ + work_);
  }

  void TearDown() override {
    for (auto pid : pids_)
      kill_and_reap(pid);
    if (!root_.empty()) {
      // A workload's own children (ping-pong's partner) go with it.
      std::ofstream(root_ + work_ + "/cgroup.kill") << "1";
      remove_cgroup_dir(root_ + work_);
    }
    AgentHostTest::TearDown();
  }

  // Starts the agent and waits for the sched source's first read.
  void start_agent() {
    start();
    ASSERT_TRUE(metrics_eventually([](const scrape &s) {
      return s.sum("ballast_cpu_busy_seconds_total") > 0;
    })) << agent_->log();
  }

  // Runs the workload in the work cgroup until it exits by itself.
  void run(const std::string &mode, const std::string &seconds) {
    pid_t pid = spawn_in_cgroup(root_ + work_, {BALLAST_SCHEDLOAD, mode, seconds});
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  double of_work(const scrape &s, const std::string &name, const std::string &quantile) {
    return s.value(name, {{"cgroup", work_}, {"quantile", quantile}});
  }

  // Polls until the work cgroup's quantile gauge of `name` is above zero.
  bool wait_quantile_seen(const std::string &name) {
    return metrics_eventually([&](const scrape &s) { return of_work(s, name, "0.99") > 0; }, 3s);
  }

  std::string work_;
  std::vector<pid_t> pids_;
};

TEST_F(SchedSourceTest, ACpuHogsOnCpuTimeMatchesTheKernelsCpuStatWithinTwoPercent) {
  start_agent();
  run("spin", "3");
  // Every slice of the hog is in the maps once the source has read them
  // after it ended: two reads (each moves the CPUs' busy time; two scrapes
  // that agree may both precede the next read).
  double busy = agent_->metrics().sum("ballast_cpu_busy_seconds_total");
  for (int read = 0; read < 2; ++read)
    ASSERT_TRUE(metrics_eventually(
        [&](const scrape &s) {
          double now = s.sum("ballast_cpu_busy_seconds_total");
          bool moved = now > busy;
          busy = now;
          return moved;
        },
        6s))
        << agent_->log();
  double bpf = agent_->metrics().value("ballast_cgroup_oncpu_seconds_total",
                                       {{"cgroup", work_}, {"scale", "raw"}});
  auto stat = read_trimmed(root_ + work_ + "/cpu.stat");
  double kernel = std::stod(stat.substr(stat.find("usage_usec") + 11)) / 1e6;
  EXPECT_GT(kernel, 1.0) << "the hog ran (on a busy host it gets less than its 3 s)\n" << stat;
  EXPECT_NEAR(bpf, kernel, kernel * 0.02) << stat;
  auto s = agent_->metrics();
  EXPECT_EQ(s.value("ballast_sched_frequency_weighted"), 0) << "no cpufreq on this host";
  EXPECT_EQ(
      s.value("ballast_cgroup_oncpu_seconds_total", {{"cgroup", work_}, {"scale", "frequency"}}),
      bpf)
      << "unweighted where there is no cpufreq";
}

TEST_F(SchedSourceTest, APipePingPongShowsRunQueueDelay) {
  start_agent();
  auto before = agent_->metrics().buckets("ballast_runq_delay_seconds");
  pids_.push_back(spawn_in_cgroup(root_ + work_, {BALLAST_SCHEDLOAD, "pingpong", "10"}));
  EXPECT_TRUE(wait_quantile_seen("ballast_cgroup_runq_delay_seconds")) << agent_->log();
  auto s = agent_->metrics();
  EXPECT_GE(of_work(s, "ballast_cgroup_runq_delay_seconds", "0.99"),
            of_work(s, "ballast_cgroup_runq_delay_seconds", "0.5"));
  // The quantile shows at the first read after the ping-pong starts, which
  // may come before it has waited a thousand times: give it up to 3 s.
  double start = before.empty() ? 0 : before.back().second;
  EXPECT_TRUE(metrics_eventually(
      [&](const scrape &now) {
        auto after = now.buckets("ballast_runq_delay_seconds");
        return !after.empty() && after.back().second > start + 1000;
      },
      3s))
      << "thousands of wakeups a second";
}

TEST_F(SchedSourceTest, MutexContentionShowsFutexWaits) {
  start_agent();
  pids_.push_back(spawn_in_cgroup(root_ + work_, {BALLAST_SCHEDLOAD, "futex", "10"}));
  ASSERT_TRUE(wait_quantile_seen("ballast_cgroup_futex_wait_seconds")) << agent_->log();
  // Threads hold the lock 50 µs at a time and queue four deep: waits are
  // tens of microseconds and more, never nanoseconds.
  EXPECT_GT(of_work(agent_->metrics(), "ballast_cgroup_futex_wait_seconds", "0.99"), 10e-6);
}

// A directory on a real block device, for O_DIRECT writes; "" if none.
std::string block_backed_dir() {
  for (std::string dir : {"/var/tmp", "/tmp", "/root"}) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
      continue;
    auto dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
    if (std::filesystem::exists("/sys/dev/block/" + dev))
      return dir;
  }
  return {};
}

TEST_F(SchedSourceTest, DirectIoShowsBlockLatency) {
  auto dir = block_backed_dir();
  if (dir.empty())
    GTEST_SKIP() << "no directory on a block device here (tmpfs/overlay only): no block IO to see";
  start_agent();
  auto file = dir + "/ballast-io-" + std::to_string(::getpid());
  pid_t dd = spawn_in_cgroup(root_ + work_, {"/bin/dd", "if=/dev/zero", "of=" + file, "bs=4k",
                                             "count=4000", "oflag=direct,dsync", "status=none"});
  int status = 0;
  ASSERT_EQ(::waitpid(dd, &status, 0), dd);
  ::unlink(file.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "dd with O_DIRECT failed";
  EXPECT_TRUE(wait_quantile_seen("ballast_cgroup_io_latency_seconds")) << agent_->log();
}

} // namespace

} // namespace ballast::test
