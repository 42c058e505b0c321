// CPU lists as the kernel spells them ("0-3,5", cpuset.cpus, the online
// mask) and the host's CPUs and NUMA nodes from sysfs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ballast::sys {

// The CPUs of a list, ascending without repeats; "" is no CPU. nullopt when
// the text is not a CPU list (a bad number, "3-1", a trailing comma).
std::optional<std::vector<unsigned>> parse_cpu_list(std::string_view text);

// The shortest list of cpus (ascending): {0,1,2,5} -> "0-2,5".
std::string format_cpu_list(const std::vector<unsigned> &cpus);

// The host's online CPUs and the NUMA node of each; every CPU on node 0
// where the kernel has no node directories (no CONFIG_NUMA).
struct cpu_topology {
  std::vector<unsigned> cpus;
  std::map<unsigned, unsigned> node_of;
  size_t nodes() const;
};

// Read from sys_root + "/sys/devices/system/{cpu/online,node/node*/cpulist}";
// nullopt when the online list cannot be read.
std::optional<cpu_topology> read_cpu_topology(const std::string &sys_root = "");

} // namespace ballast::sys
