// What the registry gets from two reads of the sched maps: cumulative on-CPU
// time per cgroup, the waits of the interval only, and the processes that ran
// since the last read, each under the cgroup it ran in last.
#include "actors/sources/sched_source.hpp"

#include <gtest/gtest.h>

namespace ballast::test {
namespace {

sched_totals read_at(uint64_t ktime_ns) {
  sched_totals t;
  t.ktime_ns = ktime_ns;
  t.loaded_ns = 7;
  return t;
}

const sched_sample *of(const sched_batch &b, uint64_t cgroup_id) {
  for (auto &s : b.samples)
    if (s.cgroup_id == cgroup_id)
      return &s;
  return nullptr;
}

TEST(SchedDifference, WaitsAreTheIntervalsAndOnCpuTimeStaysCumulative) {
  auto before = read_at(1'000'000'000);
  before.cgroups[10].oncpu_ns = 400;
  before.cgroups[10].runq.add(3000, 5);
  auto now = read_at(1'500'000'000);
  now.cgroups[10].oncpu_ns = 900;
  now.cgroups[10].weighted_ns = 450;
  now.cgroups[10].runq.add(3000, 7); // 2 more of the same size
  now.cgroups[10].runq.add(1 << 20); // and one of about a millisecond
  auto b = sched_difference(now, before);
  auto *s = of(b, 10);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->interval_ns, 500'000'000u);
  EXPECT_EQ(s->loaded_ns, 7u);
  EXPECT_EQ(s->oncpu_ns, 900u);
  EXPECT_EQ(s->weighted_ns, 450u);
  log2_histogram runq;
  runq.add_slots(s->runq);
  EXPECT_EQ(runq.total(), 3u);
  EXPECT_EQ(runq.counts()[log2_histogram::slot_of(3000)], 2u);
  EXPECT_EQ(runq.counts()[log2_histogram::slot_of(1 << 20)], 1u);
  EXPECT_TRUE(s->futex.empty()) << "trailing empty slots are not sent";
}

TEST(SchedDifference, OnlyProcessesThatRanAreSentUnderTheCgroupTheyRanInLast) {
  auto before = read_at(1'000'000'000);
  before.processes[100] = {10, 5000};
  before.processes[200] = {10, 8000};
  auto now = read_at(2'000'000'000);
  now.cgroups[10].oncpu_ns = 1;
  now.cgroups[20].oncpu_ns = 1;
  now.processes[100] = {10, 5000}; // did not run
  now.processes[200] = {20, 9000}; // ran, and moved
  now.processes[300] = {10, 100};  // new
  auto b = sched_difference(now, before);
  ASSERT_NE(of(b, 10), nullptr);
  ASSERT_NE(of(b, 20), nullptr);
  ASSERT_EQ(of(b, 10)->processes.size(), 1u);
  EXPECT_EQ(of(b, 10)->processes[0].pid, 300);
  ASSERT_EQ(of(b, 20)->processes.size(), 1u);
  EXPECT_EQ(of(b, 20)->processes[0].pid, 200);
  EXPECT_EQ(of(b, 20)->processes[0].oncpu_ns, 9000u);
}

TEST(SchedDifference, TheFirstReadHasNoInterval) {
  auto now = read_at(5'000'000'000);
  now.cgroups[10].oncpu_ns = 42;
  auto b = sched_difference(now, sched_totals{});
  ASSERT_EQ(b.samples.size(), 1u);
  EXPECT_EQ(b.samples[0].interval_ns, 0u);
  EXPECT_EQ(b.samples[0].oncpu_ns, 42u);
}

} // namespace
} // namespace ballast::test
