// The probe's on-CPU series from sched samples: growth between samples,
// a dip held, and a reloaded sched source counted from zero again; what it
// tells telemetry of a process when its cgroup has no sample.
#include "actors/probe/cgroup_probe.hpp"

#include "tests/support/metrics_probe.hpp"
#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

namespace ballast::test {
namespace {

class ProbeSched : public ::testing::Test {
protected:
  ProbeSched() {
    tree_.make_dir("/app");
    probe_.emplace(std::move(*sys::cgroup_dir::open(tree_.root(), "/app")), metrics_, heartbeat_);
  }

  void add(uint64_t loaded_ns, uint64_t oncpu_ns) {
    sched_sample s;
    s.loaded_ns = loaded_ns;
    s.ktime_ns = loaded_ns + (++reads_) * 1'000'000'000;
    s.interval_ns = 1'000'000'000;
    s.oncpu_ns = s.weighted_ns = oncpu_ns;
    probe_->add_sched_sample(s, now_ += std::chrono::seconds(1));
  }

  double oncpu() {
    return metric_value(metrics_->registry(), "ballast_cgroup_oncpu_seconds_total",
                        {{"cgroup", "/app"}, {"scale", "raw"}})
        .value_or(-1);
  }

  temp_tree tree_;
  std::shared_ptr<agent_metrics> metrics_ = std::make_shared<agent_metrics>();
  std::shared_ptr<sched_heartbeat> heartbeat_ = std::make_shared<sched_heartbeat>();
  std::optional<cgroup_probe> probe_;
  std::chrono::steady_clock::time_point now_{};
  uint64_t reads_ = 0;
};

TEST_F(ProbeSched, OnCpuTimeGrowsByWhatTheCgroupRanAndItsShareIsInTheWindows) {
  add(5, 2'000'000'000);
  EXPECT_DOUBLE_EQ(oncpu(), 2.0);
  add(5, 2'500'000'000);
  EXPECT_DOUBLE_EQ(oncpu(), 2.5);
  EXPECT_NEAR(probe_->sched(now_)->cpu_cores.value_or(-1), 0.5, 1e-9);
}

TEST_F(ProbeSched, ADipInTheTotalIsHeld) {
  add(5, 2'000'000'000);
  add(5, 1'900'000'000);
  EXPECT_DOUBLE_EQ(oncpu(), 2.0);
  EXPECT_EQ(probe_->sched(now_)->cpu_cores, 0);
  add(5, 2'600'000'000);
  EXPECT_DOUBLE_EQ(oncpu(), 2.6);
}

TEST_F(ProbeSched, AReloadedSourceIsCountedFromZero) {
  add(5, 2'000'000'000);
  add(9, 300'000'000); // restarted: its totals begin again
  EXPECT_DOUBLE_EQ(oncpu(), 2.3);
  add(9, 800'000'000);
  EXPECT_DOUBLE_EQ(oncpu(), 2.8);
  EXPECT_NEAR(probe_->sched(now_)->cpu_cores.value_or(-1), 0.5, 1e-9);
}

// A cgroup none of whose tasks ran since the source loaded gets no sample:
// while the source reads, its processes have not run (telemetry adds
// nothing and reads no /proc/PID/stat); once it stops, nothing is known.
TEST_F(ProbeSched, ACgroupWithoutSamplesRanNothingWhileTheSourceReads) {
  EXPECT_FALSE(probe_->sched_process(42, now_));
  heartbeat_->beat(7, std::chrono::seconds(1), now_);
  auto p = probe_->sched_process(42, now_ + std::chrono::seconds(2));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->loaded_ns, 7u);
  EXPECT_FALSE(p->oncpu_ns);
  EXPECT_FALSE(probe_->sched_process(42, now_ + std::chrono::seconds(4)));
}

} // namespace
} // namespace ballast::test
