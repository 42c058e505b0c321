// cpuset_spread's law on recorded series of 1 s intervals: CPU hogs (ids 1,
// 2, 3) whose run-queue p99 rises together on a shared pool, and a member
// that waits alone. The rise count, the cut by demand, NUMA order, the
// refusal with fewer CPUs than contenders, a late contender joining, the
// merge once calm and light after a hold, and the doubled hold after a
// relapse.
#include "actors/laws/cpuset_partition.hpp"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace ballast {

void PrintTo(const cpuset_assignment &a, std::ostream *os) {
  *os << "{cpus \"" << a.cpus << "\", mems \"" << a.mems << "\"}";
}

namespace {

using namespace std::chrono_literals;
using given = std::map<uint64_t, cpuset_assignment>;

cpuset_settings settings() {
  cpuset_settings s;
  s.target_s = 0.004;
  s.release_s = 0.002;
  s.rise = 2;
  s.calm = 2;
  s.hold = 5s;
  return s;
}

sys::cpu_topology one_node(unsigned n) {
  sys::cpu_topology t;
  for (unsigned c = 0; c < n; ++c) {
    t.cpus.push_back(c);
    t.node_of[c] = 0;
  }
  return t;
}

// A member taking `cores` whose run-queue p99 is `p99_ms` over 500 waits.
cpuset_reading hog(uint64_t id, double cores, double p99_ms) {
  return {id, cores, p99_ms / 1e3, 500};
}

struct series {
  explicit series(sys::cpu_topology pool = one_node(2)) : law(settings(), std::move(pool)) {}
  cpuset_partition law;
  cpuset_partition::clock::time_point t{};

  const given &at(const std::vector<cpuset_reading> &members) {
    t += 1s;
    return law.step(members, t);
  }
  // The same interval `n` times; the assignments after the last.
  given repeat(int n, const std::vector<cpuset_reading> &members) {
    given out;
    for (int i = 0; i < n; ++i)
      out = at(members);
    return out;
  }
};

TEST(CpusetPartition, SpreadsTwoContendersAfterTheRiseCount) {
  series s;
  std::vector<cpuset_reading> both = {hog(1, 1.0, 8), hog(2, 1.0, 8), {3, 0.0, 0, 0}};
  EXPECT_TRUE(s.at(both).empty()) << "one interval is not a rise";
  EXPECT_EQ(s.at(both), (given{{1, {"0", ""}}, {2, {"1", ""}}}));
  EXPECT_DOUBLE_EQ(s.law.worst_wait(), 0.008);
}

TEST(CpusetPartition, LeavesAMemberThatWaitsAloneWhereItIs) {
  series s;
  EXPECT_TRUE(s.repeat(5, {hog(1, 1.0, 8), hog(2, 1.0, 1)}).empty());
  EXPECT_TRUE(s.repeat(5, {hog(1, 1.0, 8), {2, 1.0, 0.009, 5}}).empty())
      << "a p99 of five waits is not read";
}

TEST(CpusetPartition, CutsThePoolByTheCoresEachTook) {
  series s(one_node(8));
  EXPECT_EQ(s.repeat(2, {hog(1, 3.0, 8), hog(2, 1.0, 8)}),
            (given{{1, {"0-5", ""}}, {2, {"6-7", ""}}}));
  series tiny(one_node(4));
  EXPECT_EQ(tiny.repeat(2, {hog(1, 6.0, 8), hog(2, 0.0, 8), hog(3, 0.0, 8)}),
            (given{{1, {"0-1", ""}}, {2, {"2", ""}}, {3, {"3", ""}}}))
      << "at least one CPU each";
}

TEST(CpusetPartition, KeepsARunWithinANodeAndGivesItThatNodesMemory) {
  sys::cpu_topology two{{0, 1, 2, 3}, {{0, 0}, {1, 1}, {2, 0}, {3, 1}}};
  series s(two);
  EXPECT_EQ(s.repeat(2, {hog(1, 2.0, 8), hog(2, 2.0, 8)}),
            (given{{1, {"0,2", "0"}}, {2, {"1,3", "1"}}}));
}

TEST(CpusetPartition, RefusesWhenMoreCgroupsContendThanThereAreCpus) {
  series s;
  EXPECT_TRUE(s.repeat(2, {hog(1, 0.7, 8), hog(2, 0.7, 8), hog(3, 0.6, 8)}).empty());
  EXPECT_EQ(s.law.refusal(), "3 cgroups contend for 2 CPUs: fewer CPUs than cgroups");
  s.at({hog(1, 0.7, 1), hog(2, 0.7, 1)});
  EXPECT_EQ(s.law.refusal(), "");
}

TEST(CpusetPartition, ALateContenderJoinsAndThePoolIsCutAgain) {
  series s(one_node(4));
  ASSERT_EQ(s.repeat(2, {hog(1, 2.0, 8), hog(2, 2.0, 8), hog(3, 0.5, 1)}).size(), 2u);
  std::vector<cpuset_reading> three = {hog(1, 2.0, 1), hog(2, 2.0, 1), hog(3, 1.0, 9)};
  EXPECT_EQ(s.at(three).size(), 2u);
  EXPECT_EQ(s.at(three), (given{{1, {"0-1", ""}}, {2, {"2", ""}}, {3, {"3", ""}}}))
      << "the spread keep the cores they took when spread";
}

TEST(CpusetPartition, MergesOnceCalmAndLightAfterTheHold) {
  series s;
  ASSERT_FALSE(s.repeat(2, {hog(1, 1.0, 8), hog(2, 1.0, 8)}).empty()); // spread at t=2
  EXPECT_FALSE(s.repeat(6, {hog(1, 1.0, 0.5), hog(2, 1.0, 0.5)}).empty())
      << "calm but still taking both CPUs: they would contend again";
  EXPECT_FALSE(s.at({hog(1, 0.2, 0.5), hog(2, 0.3, 3)}).empty()) << "between release and target";
  EXPECT_FALSE(s.at({hog(1, 0.2, 0.5), hog(2, 0.3, 0.5)}).empty()) << "one calm interval";
  EXPECT_TRUE(s.at({hog(1, 0.2, 0.5), hog(2, 0.3, 0.5)}).empty());
}

TEST(CpusetPartition, ASpreadSoonAfterAMergeDoublesTheHold) {
  series s;
  std::vector<cpuset_reading> loud = {hog(1, 1.0, 8), hog(2, 1.0, 8)};
  std::vector<cpuset_reading> quiet = {hog(1, 0.1, 0.5), hog(2, 0.1, 0.5)};
  s.repeat(2, loud);                        // spread at t=2
  ASSERT_TRUE(s.repeat(5, quiet).empty());  // merged at t=7, the hold (5 s) over
  ASSERT_FALSE(s.repeat(2, loud).empty());  // spread again at t=9: a relapse
  EXPECT_FALSE(s.repeat(9, quiet).empty()); // t=18: the hold is 10 s now
  EXPECT_TRUE(s.at(quiet).empty());         // t=19
}

TEST(CpusetPartition, AMemberLeftAloneIsMergedBack) {
  series s;
  ASSERT_FALSE(s.repeat(2, {hog(1, 1.0, 8), hog(2, 1.0, 8)}).empty());
  s.law.forget(2);
  EXPECT_TRUE(s.law.assignments().empty());
}

} // namespace
} // namespace ballast
