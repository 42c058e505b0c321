// The knob table: every file the agent may write, and the one place a knob's
// name is spelled. Each row says where the file lives (in every cgroup, or
// one system-wide procfs/sysfs path, with "{}" for a CPU or cpufreq policy
// number), what a value must look like, whether a write may block in the
// kernel, and what putting it back means. A claim or an action naming a file
// not in this table is refused, as is a value its row does not accept. A
// per-device file (io.max, io.weight) holds a line per block device and is
// claimed a device at a time: "io.max:8:0". One row is no file: "kill", SIGKILL to one member
// process of a cgroup, so that it goes the way of every other action (checked, logged, dry-run).
#pragma once

#include "sys/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ballast::knobs {

enum class scope {
  cgroup, // a control file in each cgroup directory
  system, // one procfs/sysfs file of the host
};

enum class effect {
  setting, // claimed and held; restored to the value read before the first claim
  action,  // written once (kill, reclaim): nothing to restore
};

enum class value_kind {
  bytes_or_max, // "max" or a byte count
  count_or_max, // "max" or a count
  flag,         // "0" or "1"
  bytes,        // a byte count (memory.reclaim)
  weight,       // 1..10000 (cpu.weight)
  cpu_max,      // "QUOTA [PERIOD]": QUOTA "max" or µs, PERIOD 1000..1000000 µs
  cpu_list,     // "" (inherit) or "0-3,5" (CPUs, or NUMA nodes for cpuset.mems)
  range,        // an integer within [min, max] (sysctls)
  khz,          // a frequency in kHz (the hardware's own limits are checked by the owner)
  pid,          // a process id (> 0)
  io_max,       // "rbps=N wbps=N riops=N wiops=N", any of them, N a count or "max"
  io_weight,    // 1..10000, or "default" (a device's line: the cgroup's default weight)
};

struct knob {
  std::string_view name; // "memory.high"; a system knob: "vm.swappiness"
  enum scope scope;
  enum effect effect;
  value_kind value;
  bool may_block;           // the write can reclaim memory inside write(2)
  std::string_view path;    // system knobs: the file, "{}" for a number
  int64_t min = 0, max = 0; // value_kind::range
  // Where "" (inherit) cannot be written back: the kernel refuses to empty
  // the cpuset of a cgroup with tasks (ENOSPC, 6.1), so the parent's file
  // of this name (what "" would give it) is written instead.
  std::string_view inherit_from = "";
  // A file of "KEY VALUE" lines, KEY a block device "MAJ:MIN" (or
  // "default" for io.weight), claimed per key; a key without a line reads
  // as `unset`, which written back removes the line.
  bool per_device = false;
  std::string_view unset = "";
};

constexpr knob cgroup_setting(std::string_view name, value_kind v, bool may_block = false) {
  return {name, scope::cgroup, effect::setting, v, may_block, ""};
}
constexpr knob cgroup_action(std::string_view name, value_kind v, bool may_block) {
  return {name, scope::cgroup, effect::action, v, may_block, ""};
}
constexpr knob system_setting(std::string_view name, value_kind v, std::string_view path,
                              int64_t min = 0, int64_t max = 0) {
  return {name, scope::system, effect::setting, v, false, path, min, max};
}

// Lowering memory.high or memory.max below the usage reclaims inside write(2).
inline constexpr knob memory_high = cgroup_setting("memory.high", value_kind::bytes_or_max, true);
inline constexpr knob memory_max = cgroup_setting("memory.max", value_kind::bytes_or_max, true);
inline constexpr knob memory_low = cgroup_setting("memory.low", value_kind::bytes_or_max);
inline constexpr knob memory_min = cgroup_setting("memory.min", value_kind::bytes_or_max);
inline constexpr knob memory_swap_max = cgroup_setting("memory.swap.max", value_kind::bytes_or_max);
inline constexpr knob pids_max = cgroup_setting("pids.max", value_kind::count_or_max);
inline constexpr knob memory_reclaim = cgroup_action("memory.reclaim", value_kind::bytes, true);
inline constexpr knob cgroup_freeze = cgroup_setting("cgroup.freeze", value_kind::flag);
inline constexpr knob cgroup_kill = cgroup_action("cgroup.kill", value_kind::flag, false);
inline constexpr knob kill_member = cgroup_action("kill", value_kind::pid, false);
inline constexpr knob cgroup_max_descendants =
    cgroup_setting("cgroup.max.descendants", value_kind::count_or_max);
inline constexpr knob cgroup_max_depth =
    cgroup_setting("cgroup.max.depth", value_kind::count_or_max);
inline constexpr knob cpu_weight = cgroup_setting("cpu.weight", value_kind::weight);
inline constexpr knob cpu_max = cgroup_setting("cpu.max", value_kind::cpu_max);
// "" restores "inherit the parent's CPUs" (nodes, for cpuset.mems).
constexpr knob cpuset_setting(std::string_view name, std::string_view inherit_from) {
  knob k = cgroup_setting(name, value_kind::cpu_list);
  k.inherit_from = inherit_from;
  return k;
}
inline constexpr knob cpuset_cpus = cpuset_setting("cpuset.cpus", "cpuset.cpus.effective");
inline constexpr knob cpuset_mems = cpuset_setting("cpuset.mems", "cpuset.mems.effective");
constexpr knob device_setting(std::string_view name, value_kind v, std::string_view unset) {
  knob k = cgroup_setting(name, v);
  k.per_device = true;
  k.unset = unset;
  return k;
}
inline constexpr knob io_max =
    device_setting("io.max", value_kind::io_max, "rbps=max wbps=max riops=max wiops=max");
inline constexpr knob io_weight = device_setting("io.weight", value_kind::io_weight, "default");
inline constexpr knob vm_swappiness =
    system_setting("vm.swappiness", value_kind::range, "/proc/sys/vm/swappiness", 0, 200);
inline constexpr knob vm_watermark_scale_factor = system_setting(
    "vm.watermark_scale_factor", value_kind::range, "/proc/sys/vm/watermark_scale_factor", 1, 3000);
inline constexpr knob cpufreq_min =
    system_setting("cpufreq.scaling_min_freq", value_kind::khz,
                   "/sys/devices/system/cpu/cpufreq/policy{}/scaling_min_freq");
inline constexpr knob cpufreq_max =
    system_setting("cpufreq.scaling_max_freq", value_kind::khz,
                   "/sys/devices/system/cpu/cpufreq/policy{}/scaling_max_freq");

// Every row, in the order above.
std::span<const knob> table();

// The row named name, or nullptr.
const knob *find(std::string_view name);

// Whether value is one the knob accepts; the error names the knob and says
// what it takes ("cpu.weight: '0' is not a weight 1..10000").
status check_value(const knob &k, std::string_view value);

// One knob as claimed: a row, for a system path with "{}" the number in it,
// for a per-device file the key. Spelled "vm.swappiness", with a number
// "cpufreq.scaling_max_freq:0", with a key "io.max:8:0".
struct instance {
  const knob *row = nullptr;
  std::optional<unsigned> n;
  std::string key;
};

// The instance a name spells; an error names what is wrong with it.
result<instance> find_instance(std::string_view name);

// The check every claim (effect::setting) and action (effect::action) passes
// before it reaches the journal: name is a knob of that scope and effect (a
// system knob with its number where its path has one) and value one its row
// accepts. The error says which rule failed, with EINVAL.
status check_write(enum scope s, std::string_view name, effect e, std::string_view value);

// A system knob's file, with n in place of "{}" (a path without "{}" takes
// no number).
result<std::string> system_path(const knob &k, std::optional<unsigned> n = std::nullopt);

// The file of a system knob instance ("cpufreq.scaling_max_freq:0").
result<std::string> system_path(std::string_view name);

// Whether key names a block device as a per-device file does: "MAJ:MIN".
bool is_device(std::string_view key);

// A per-device file's value for key: the rest of its line, or the row's
// `unset` where there is none ("8:0 rbps=1048576 wbps=max riops=max
// wiops=max" gives "rbps=1048576 wbps=max riops=max wiops=max").
std::string device_value(const knob &k, std::string_view file, std::string_view key);

// Whether a write of this file may block in the kernel (unknown: no).
bool write_may_block(std::string_view name);

} // namespace ballast::knobs
