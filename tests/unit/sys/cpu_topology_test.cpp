// CPU lists as the kernel spells them, both ways, and the host's CPUs and
// NUMA nodes read from fixture sysfs trees (two nodes, and no node
// directories at all).
#include "sys/cpu_topology.hpp"
#include "tests/support/temp_tree.hpp"

#include <gtest/gtest.h>

namespace ballast::sys {
namespace {

using cpus = std::vector<unsigned>;

TEST(CpuList, ParsesRangesAndSinglesInOrderWithoutRepeats) {
  EXPECT_EQ(parse_cpu_list("0-2,5\n"), (cpus{0, 1, 2, 5}));
  EXPECT_EQ(parse_cpu_list("5,0-1,1"), (cpus{0, 1, 5}));
  EXPECT_EQ(parse_cpu_list(""), cpus{});
  for (auto bad : {"3-1", "0,", ",1", "a", "0-", "1-2-3"})
    EXPECT_FALSE(parse_cpu_list(bad)) << bad;
}

TEST(CpuList, FormatsTheShortestList) {
  EXPECT_EQ(format_cpu_list({0, 1, 2, 5}), "0-2,5");
  EXPECT_EQ(format_cpu_list({3}), "3");
  EXPECT_EQ(format_cpu_list({0, 2, 3, 4, 6, 7}), "0,2-4,6-7");
  EXPECT_EQ(format_cpu_list({}), "");
}

TEST(CpuTopology, ReadsTheOnlineCpusAndTheirNodes) {
  test::temp_tree t;
  t.make_dir("/sys/devices/system/cpu");
  t.write("/sys/devices/system/cpu/online", "0-3\n");
  t.make_dir("/sys/devices/system/node/node0");
  t.make_dir("/sys/devices/system/node/node1");
  t.write("/sys/devices/system/node/node0/cpulist", "0,2\n");
  t.write("/sys/devices/system/node/node1/cpulist", "1,3\n");
  t.write("/sys/devices/system/node/possible", "0-1\n"); // not a node directory
  auto topo = read_cpu_topology(t.root());
  ASSERT_TRUE(topo);
  EXPECT_EQ(topo->cpus, (cpus{0, 1, 2, 3}));
  EXPECT_EQ(topo->node_of, (std::map<unsigned, unsigned>{{0, 0}, {1, 1}, {2, 0}, {3, 1}}));
  EXPECT_EQ(topo->nodes(), 2u);
}

TEST(CpuTopology, PutsEveryCpuOnNodeZeroWithoutNodeDirectories) {
  test::temp_tree t;
  t.make_dir("/sys/devices/system/cpu");
  t.write("/sys/devices/system/cpu/online", "0-1\n");
  auto topo = read_cpu_topology(t.root());
  ASSERT_TRUE(topo);
  EXPECT_EQ(topo->nodes(), 1u);
  EXPECT_EQ(topo->node_of.at(1), 0u);
  EXPECT_FALSE(read_cpu_topology(t.root() + "/nowhere")) << "no online list";
}

} // namespace
} // namespace ballast::sys
