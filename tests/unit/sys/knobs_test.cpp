#include "sys/knobs.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ballast::knobs {
namespace {

TEST(KnobTable, NamesAreUniqueAndFound) {
  std::set<std::string_view> names;
  for (auto &k : table()) {
    EXPECT_TRUE(names.insert(k.name).second) << k.name;
    EXPECT_EQ(find(k.name), &k) << k.name;
    EXPECT_EQ(k.scope == scope::system, !k.path.empty())
        << k.name << ": a path is for system knobs";
  }
  EXPECT_EQ(find("memory.stat"), nullptr);
  EXPECT_EQ(find("../escape"), nullptr);
}

TEST(KnobTable, OnlyReclaimingWritesMayBlock) {
  EXPECT_TRUE(write_may_block("memory.high"));
  EXPECT_TRUE(write_may_block("memory.max"));
  EXPECT_TRUE(write_may_block("memory.reclaim"));
  EXPECT_FALSE(write_may_block("memory.min"));
  EXPECT_FALSE(write_may_block("cgroup.freeze"));
  EXPECT_FALSE(write_may_block("no.such"));
}

struct value_case {
  const knob &k;
  std::vector<std::string_view> good, bad;
};

TEST(KnobTable, EachValueKindAcceptsWhatItsFileTakes) {
  const value_case cases[] = {
      {memory_high, {"max", "0", "8388608"}, {"", "-1", "8M", "maxx", "1 2"}},
      {cgroup_max_descendants, {"max", "10"}, {"lots", "-3"}},
      {cgroup_freeze, {"0", "1"}, {"2", "", "yes"}},
      {memory_reclaim, {"0", "4096"}, {"max", "-1"}},
      {cpu_weight, {"1", "100", "10000"}, {"0", "10001", "default"}},
      {cpu_max,
       {"max", "50000", "max 100000", "20000 100000"},
       {"", "999", "max 999", "1 2 3", "x 100000"}},
      {cpuset_cpus, {"", "0", "0-3", "0-3,5,7-8"}, {"3-1", "0,", ",1", "a", "0-"}},
      {cpuset_mems, {"", "0", "0-1"}, {"1-0", "x"}},
      {vm_swappiness, {"0", "60", "200"}, {"201", "-1", "x"}},
      {cpufreq_max, {"800000"}, {"0", "fast"}},
      {io_max,
       {"rbps=1048576", "wbps=max riops=100", "rbps=max wbps=max riops=max wiops=max"},
       {"", "rbps=0", "rbps=1 rbps=2", "dbps=1", "rbps", "rbps=x", "8:0 rbps=1"}},
      {io_weight, {"1", "100", "10000", "default"}, {"0", "10001", "", "8:0 100"}},
  };
  for (auto &c : cases) {
    for (auto v : c.good)
      EXPECT_TRUE(check_value(c.k, v).ok()) << c.k.name << " '" << v << "'";
    for (auto v : c.bad) {
      auto r = check_value(c.k, v);
      ASSERT_FALSE(r.ok()) << c.k.name << " '" << v << "'";
      EXPECT_EQ(r.err().message.rfind(std::string(c.k.name) + ": '", 0), 0u) << r.err().message;
    }
  }
  EXPECT_EQ(check_value(cpu_weight, "0").err().message, "cpu.weight: '0' is not a weight 1..10000");
}

TEST(KnobTable, AWriteMustBeAKnobOfItsScopeAndEffect) {
  EXPECT_TRUE(check_write(scope::cgroup, "cpu.weight", effect::setting, "50").ok());
  EXPECT_TRUE(check_write(scope::cgroup, "memory.reclaim", effect::action, "4096").ok());
  EXPECT_TRUE(check_write(scope::cgroup, "kill", effect::action, "1234").ok());
  EXPECT_TRUE(check_write(scope::system, "vm.swappiness", effect::setting, "10").ok());
  EXPECT_TRUE(
      check_write(scope::system, "cpufreq.scaling_max_freq:2", effect::setting, "800000").ok());
  EXPECT_EQ(check_write(scope::cgroup, "cgroup.kill", effect::setting, "1").err().message,
            "not a cgroup knob ballast claims: cgroup.kill");
  EXPECT_EQ(check_write(scope::cgroup, "cpu.weight", effect::action, "50").err().message,
            "unknown action: cpu.weight");
  EXPECT_EQ(check_write(scope::cgroup, "vm.swappiness", effect::setting, "10").err().message,
            "not a cgroup knob ballast claims: vm.swappiness");
  EXPECT_EQ(check_write(scope::system, "memory.high", effect::setting, "max").err().message,
            "not a system knob ballast claims: memory.high");
  EXPECT_EQ(check_write(scope::cgroup, "cpu.weight", effect::setting, "0").err().message,
            "cpu.weight: '0' is not a weight 1..10000");
  EXPECT_EQ(check_write(scope::cgroup, "kill", effect::action, "0").err().message,
            "kill: '0' is not a process id");
  EXPECT_EQ(check_write(scope::system, "cpufreq.scaling_max_freq", effect::setting, "800000")
                .err()
                .message,
            "not a system knob ballast claims: cpufreq.scaling_max_freq "
            "(cpufreq.scaling_max_freq needs a number)");
}

TEST(KnobTable, AnInstanceNamesItsNumberWhereThePathHasOne) {
  EXPECT_EQ(find_instance("vm.swappiness")->row->name, vm_swappiness.name);
  auto in = find_instance("cpufreq.scaling_min_freq:3");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->row->name, cpufreq_min.name);
  EXPECT_EQ(*in->n, 3u);
  EXPECT_EQ(*system_path("cpufreq.scaling_min_freq:3"),
            "/sys/devices/system/cpu/cpufreq/policy3/scaling_min_freq");
  EXPECT_EQ(find_instance("vm.swappiness:1").err().message, "vm.swappiness takes no number");
  EXPECT_EQ(find_instance("memory.high:1").err().message, "memory.high takes no number");
  EXPECT_EQ(find_instance("cpufreq.scaling_min_freq:x").err().message,
            "bad knob number in 'cpufreq.scaling_min_freq:x'");
  EXPECT_EQ(find_instance("no.such").err().message, "not a knob ballast writes: no.such");
}

TEST(KnobTable, APerDeviceFileIsClaimedByDeviceAndReadByItsLine) {
  auto in = find_instance("io.max:253:16");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->row->name, io_max.name);
  EXPECT_EQ(in->key, "253:16");
  EXPECT_EQ(find_instance("io.weight:default")->key, "default");
  EXPECT_EQ(find_instance("io.max").err().message,
            "io.max is claimed per block device, as \"io.max:MAJ:MIN\": not 'io.max'");
  EXPECT_FALSE(find_instance("io.max:default").ok()) << "only io.weight has a default line";
  EXPECT_FALSE(find_instance("io.max:8").ok());
  EXPECT_TRUE(check_write(scope::cgroup, "io.max:8:0", effect::setting, "wbps=1048576").ok());
  EXPECT_FALSE(check_write(scope::cgroup, "io.max:8:0", effect::setting, "wbps=0").ok());

  auto file = "8:0 rbps=1048576 wbps=max riops=max wiops=max\n8:16 rbps=max wbps=2 riops=max "
              "wiops=max\n";
  EXPECT_EQ(device_value(io_max, file, "8:16"), "rbps=max wbps=2 riops=max wiops=max");
  EXPECT_EQ(device_value(io_max, file, "8:1"), "rbps=max wbps=max riops=max wiops=max")
      << "no line: what removes one";
  EXPECT_EQ(device_value(io_weight, "default 100\n8:0 50\n", "default"), "100");
  EXPECT_EQ(device_value(io_weight, "default 100\n8:0 50\n", "8:0"), "50");
  EXPECT_EQ(device_value(io_weight, "default 100\n", "8:0"), "default");
}

TEST(KnobTable, SystemPathsFillTheirNumber) {
  EXPECT_EQ(*system_path(vm_swappiness), "/proc/sys/vm/swappiness");
  EXPECT_EQ(*system_path(cpufreq_min, 3),
            "/sys/devices/system/cpu/cpufreq/policy3/scaling_min_freq");
  EXPECT_FALSE(system_path(cpufreq_min).ok());
  EXPECT_FALSE(system_path(vm_swappiness, 1).ok());
  EXPECT_FALSE(system_path(memory_high).ok());
}

} // namespace
} // namespace ballast::knobs
